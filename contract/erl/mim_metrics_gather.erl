%% Computing the fields of a gather. Evaluated on the node by the sidecar
%% with erl_eval: nothing is loaded (see package node).
-module(mim_metrics_gather).
-export([fields/4]).

%% Computes the fields with Metric(Field): each of the Slow ones (calls
%% that may block: module callbacks, calls to servers) in a process of its
%% own, and the Quick ones (BIFs, reads of the configuration) one after
%% the other in one more process, all at once, so that a field that fails
%% costs only itself, and one that hangs only itself (and, if quick, the
%% quick ones after it). Answers #{Field => {ok, Value} | {error, {Class,
%% Text}}} within Timeout milliseconds, whatever hangs: {error, {timeout,
%% _}} for a field that did not answer in time.
fields(Metric, Quick, Slow, Timeout) ->
    Self = self(),
    Ref = make_ref(),
    %% Each process gets a copy of what Worker uses, the gathering's code
    %% included: Worker calls none of this module's functions, which would
    %% add a second copy.
    Worker = fun(Fields) ->
                     [Self ! {Ref, Field, try {ok, Metric(Field)}
                                          catch Class:Reason -> {error, {Class, iolist_to_binary(io_lib:format("~0P", [Reason, 12]))}}
                                          end}
                      || Field <- Fields]
             end,
    Pids = [spawn(erlang, apply, [Worker, [Fields]]) || Fields <- [Quick | [[Field] || Field <- Slow]]],
    Timer = erlang:start_timer(Timeout, Self, Ref),
    Answers = receive_fields(Ref, Timer, length(Quick) + length(Slow), #{}),
    erlang:cancel_timer(Timer),
    [exit(Pid, kill) || Pid <- Pids],
    TimedOut = maps:from_list([{Field, {error, {timeout, <<"no answer within the field time limit">>}}} || Field <- Quick ++ Slow]),
    maps:merge(TimedOut, Answers).

receive_fields(_Ref, _Timer, 0, Answers) ->
    Answers;
receive_fields(Ref, Timer, Left, Answers) ->
    receive
        {Ref, Field, Answer} -> receive_fields(Ref, Timer, Left - 1, Answers#{Field => Answer});
        {timeout, Timer, Ref} -> Answers
    end.
