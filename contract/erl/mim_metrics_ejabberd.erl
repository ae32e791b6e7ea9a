%% The gathering on an ejabberd node (checked against 23.01): the facts a
%% MongooseIM node reports, where ejabberd has them. A module is ejabberd's
%% own when its beam file lies under ejabberd's lib dir; other modules are
%% only counted. Host names never leave the node.
%%
%% Evaluated on the node by the sidecar with erl_eval: nothing is loaded
%% (see package node). The context of every field, Ctx, is what the
%% sidecar knows of the node: #{version, quick and slow (the fields, see
%% mim_metrics_gather:fields/4), timeout, api_whitelist,
%% transport_handlers, ...} (the map a MongooseIM node gets too).
-module(mim_metrics_ejabberd).
-export([gather/1]).

%% The metrics, with MongooseIM's events (described in
%% mim_metrics_mongooseim.erl), in the order of their events in a report;
%% see contract/declare.go and metrics/declared.go.
-metric(#{event => host_count, fields => [{host_count, [quick]}], events => count}).
-metric(#{event => module_with_opt, fields => [host_modules], events => module_pairs}).
-metric(#{event => custom_module_count, fields => [custom_module_count], events => count}).
-metric(#{event => cluster, fields => [{uptime_ms, [quick]}, {config_path, [quick]}, version, component, node_number],
          events => cluster}).
-metric(#{event => http_api, fields => [{http_api, [quick]}], events => flags}).
-metric(#{event => transport_mechanism, fields => [{transport_mechanism, [quick]}], events => flags}).
-metric(#{event => tls_option, fields => [{tls_option, [quick]}], events => tls_on}).
%% Never reported: the members this node knows (connected, and recorded
%% by Mnesia: see mim_metrics_members), whether MongooseIM's own service
%% runs.
-metric(#{fields => [{nodes, [quick]}, {db_nodes, [quick]}, {builtin_service, [quick]}]}).

%% The gather's context: what the sidecar knows of the node (see the
%% module's doc).
-type ctx() :: #{version := string(), quick := [atom()], slow := [atom()], timeout := non_neg_integer(),
                 api_whitelist := [module()], transport_handlers := [module()], atom() => term()}.

%% Every field of the quick and slow fields of Ctx (see metric/2), or
%% {stale, Probe} when the node no longer runs the version it was probed
%% for.
-spec gather(ctx()) -> #{atom() => mim_metrics_gather:answer()} | {stale, map()}.
gather(#{version := Version, quick := Quick, slow := Slow, timeout := Timeout} = Ctx) ->
    case mim_metrics_probe:still_runs(ejabberd, Version) of
        true ->
            Answer = fun(Field) -> mim_metrics_gather:attempt(fun() -> metric(Field, Ctx) end) end,
            mim_metrics_gather:fields(Answer, Quick, Slow, Timeout);
        false ->
            {stale, mim_metrics_probe:probe()}
    end.

%% The value of one field.
-spec metric(atom(), ctx()) -> term().
metric(uptime_ms, _Ctx) ->
    element(1, erlang:statistics(wall_clock));
metric(builtin_service, _Ctx) ->
    is_pid(erlang:whereis(service_mongoose_system_metrics));
%% The members this node knows; never reported.
metric(nodes, _Ctx) ->
    erlang:nodes();
metric(db_nodes, _Ctx) ->
    mim_metrics_members:mnesia_nodes();
metric(node_number, _Ctx) ->
    length(ejabberd_cluster:get_nodes());
metric(version, _Ctx) ->
    ejabberd_option:version();
metric(config_path, _Ctx) ->
    filename:extension(ejabberd_config:path());
metric(host_count, _Ctx) ->
    length(list_or_nil(ejabberd_option:hosts()));
metric(custom_module_count, _Ctx) ->
    LibDir = lib_dir(),
    length(lists:usort([M || {_, Ms} <- modules_per_host(), M <- Ms, not own(M, LibDir)]));
metric(host_modules, _Ctx) ->
    LibDir = lib_dir(),
    [{M, module_backend(Host, M)} || {Host, Ms} <- modules_per_host(), M <- lists:sort(Ms), own(M, LibDir)];
metric(component, _Ctx) ->
    length([P || P <- erlang:processes(), (catch proc_lib:initial_call(P)) =:= {ejabberd_service, init, 1}]);
metric(http_api, Ctx) ->
    Whitelist = maps:get(api_whitelist, Ctx),
    [H || H <- handler_modules(), lists:member(H, Whitelist)];
metric(transport_mechanism, Ctx) ->
    Transports = maps:get(transport_handlers, Ctx),
    [H || H <- handler_modules(), lists:member(H, Transports)] ++
        lists:usort([tcp || {_, ejabberd_c2s, _} <- listeners()]);
metric(tls_option, _Ctx) ->
    lists:usort([tls_option(Opts) || {_, ejabberd_c2s, Opts} <- listeners(), is_map(Opts)]).

-spec list_or_nil(term()) -> list().
list_or_nil(L) when is_list(L) -> L;
list_or_nil(_) -> [].

%% The modules loaded on each host.
-spec modules_per_host() -> [{binary(), [module()]}].
modules_per_host() ->
    Hosts = try list_or_nil(ejabberd_option:hosts()) catch _:_ -> [] end,
    [{Host, gen_mod:loaded_modules(Host)} || Host <- Hosts].

-spec lib_dir() -> string().
lib_dir() ->
    case code:lib_dir(ejabberd) of
        Dir when is_list(Dir) -> Dir;
        _ -> "/nonexistent"
    end.

%% Whether M is ejabberd's own: its beam file lies under LibDir.
-spec own(module(), string()) -> boolean().
own(M, LibDir) ->
    case code:which(M) of
        Path when is_list(Path) -> lists:prefix(LibDir, Path);
        _ -> false
    end.

%% The database backend of module M on Host, as MongooseIM's
%% config_metrics/1 would answer it.
-spec module_backend(binary(), module()) -> mim_metrics_gather:answer().
module_backend(Host, M) ->
    mim_metrics_gather:attempt(fun() -> backend(gen_mod:get_module_opts(Host, M)) end).

-spec backend(term()) -> [{backend, atom()} | {none, none}].
backend(Opts) when is_map(Opts), is_map_key(db_type, Opts) -> [{backend, maps:get(db_type, Opts)}];
backend(_) -> [{none, none}].

-spec listeners() -> list().
listeners() ->
    list_or_nil(ejabberd_option:listen()).

-spec handler_modules() -> [module()].
handler_modules() ->
    lists:usort([H || {_, ejabberd_http, Opts} <- listeners(), is_map(Opts),
                      {_, H} <- maps:get(request_handlers, Opts, [])]).

-spec tls_option(map()) -> {atom(), atom()}.
tls_option(#{tls := true}) -> {tls, fast_tls};
tls_option(#{starttls_required := true}) -> {starttls_required, fast_tls};
tls_option(#{starttls := true}) -> {starttls, fast_tls};
tls_option(_) -> {none, none}.
