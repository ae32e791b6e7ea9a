%% Computing the fields of a gather. Evaluated on the node by the sidecar
%% with erl_eval: nothing is loaded (see package node).
-module(mim_metrics_gather).
-export([fields/4, attempt/1]).
-export_type([answer/0]).

%% A field's answer: its value, or why computing it failed (the error's
%% class and its reason, printed; timeout when it did not answer in time).
-type answer() :: {ok, term()} | {error, {atom(), binary()}}.

%% Computes the fields with Answer(Field): each of the Slow ones (calls
%% that may block: module callbacks, calls to servers) in a process of its
%% own, and the Quick ones (BIFs, reads of the configuration) one after
%% the other in one more process, all at once, so that a field that fails
%% costs only itself, and one that hangs only itself (and, if quick, the
%% quick ones after it). Answers #{Field => answer()} within Timeout
%% milliseconds, whatever hangs: {error, {timeout, _}} for a field that
%% did not answer in time.
-spec fields(fun((atom()) -> answer()), [atom()], [atom()], non_neg_integer()) -> #{atom() => answer()}.
fields(Answer, Quick, Slow, Timeout) ->
    Self = self(),
    Ref = make_ref(),
    %% Each process gets a copy of what Worker uses, the gathering's code
    %% included (in Answer): Worker calls none of this module's functions,
    %% which would add a second copy.
    Worker = fun(Fields) ->
                     lists:foreach(fun(Field) -> Self ! {Ref, Field, Answer(Field)} end, Fields)
             end,
    Pids = [spawn(erlang, apply, [Worker, [Fields]]) || Fields <- [Quick | [[Field] || Field <- Slow]]],
    Timer = erlang:start_timer(Timeout, Self, Ref),
    Answers = receive_fields(Ref, Timer, length(Quick) + length(Slow), #{}),
    erlang:cancel_timer(Timer),
    lists:foreach(fun(Pid) -> exit(Pid, kill) end, Pids),
    TimedOut = maps:from_list([{Field, {error, {timeout, <<"no answer within the field time limit">>}}} || Field <- Quick ++ Slow]),
    maps:merge(TimedOut, Answers).

%% {ok, Compute()}, or the failure of Compute as failure/2 gives it.
-spec attempt(fun(() -> term())) -> answer().
attempt(Compute) ->
    try
        {ok, Compute()}
    catch
        Class:Reason -> failure(Class, Reason)
    end.

%% An error of class Class and reason Reason as the sidecar receives it:
%% the reason printed on one line, nested terms cut at depth 12, so that
%% a huge reason costs little to send.
-spec failure(atom(), term()) -> {error, {atom(), binary()}}.
failure(Class, Reason) ->
    {error, {Class, iolist_to_binary(io_lib:format("~0P", [Reason, 12]))}}.

-spec receive_fields(reference(), reference(), non_neg_integer(), #{atom() => answer()}) -> #{atom() => answer()}.
receive_fields(_Ref, _Timer, 0, Answers) ->
    Answers;
receive_fields(Ref, Timer, Left, Answers) ->
    receive
        {Ref, Field, Answer} -> receive_fields(Ref, Timer, Left - 1, Answers#{Field => Answer});
        {timeout, Timer, Ref} -> Answers
    end.
