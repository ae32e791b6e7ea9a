%% The gathering on an ejabberd node (checked against 23.01): the facts a
%% MongooseIM node reports, where ejabberd has them. A module is ejabberd's
%% own when its beam file lies under ejabberd's lib dir; other modules are
%% only counted. Host names never leave the node.
%%
%% Evaluated on the node by the sidecar with erl_eval: nothing is loaded
%% (see package node). Node is #{version, quick and slow (the fields, see
%% mim_metrics_gather:fields/4), timeout, api_whitelist,
%% transport_handlers}.
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

%% Every field of Node's quick and slow fields (see metric/2), or
%% {stale, Probe} when the node no longer runs the version it was probed
%% for.
gather(#{version := Version, quick := Quick, slow := Slow, timeout := Timeout} = Node) ->
    case mim_metrics_probe:still_runs(ejabberd, Version) of
        true -> mim_metrics_gather:fields(fun(Field) -> metric(Field, Node) end, Quick, Slow, Timeout);
        false -> {stale, mim_metrics_probe:probe()}
    end.

%% The value of one field.
metric(uptime_ms, _Node) ->
    element(1, erlang:statistics(wall_clock));
metric(builtin_service, _Node) ->
    is_pid(erlang:whereis(service_mongoose_system_metrics));
%% The members this node knows; never reported.
metric(nodes, _Node) ->
    erlang:nodes();
metric(db_nodes, _Node) ->
    mim_metrics_members:mnesia_nodes();
metric(node_number, _Node) ->
    length(ejabberd_cluster:get_nodes());
metric(version, _Node) ->
    ejabberd_option:version();
metric(config_path, _Node) ->
    filename:extension(ejabberd_config:path());
metric(host_count, _Node) ->
    length(list_or_nil(ejabberd_option:hosts()));
metric(custom_module_count, _Node) ->
    LibDir = lib_dir(),
    length(lists:usort([M || {_, Ms} <- modules_per_host(), M <- Ms, not own(M, LibDir)]));
metric(host_modules, _Node) ->
    LibDir = lib_dir(),
    [{M, module_backend(Host, M)} || {Host, Ms} <- modules_per_host(), M <- lists:sort(Ms), own(M, LibDir)];
metric(component, _Node) ->
    length([P || P <- erlang:processes(), (catch proc_lib:initial_call(P)) =:= {ejabberd_service, init, 1}]);
metric(http_api, #{api_whitelist := Whitelist}) ->
    [H || H <- handler_modules(), lists:member(H, Whitelist)];
metric(transport_mechanism, #{transport_handlers := Transports}) ->
    [H || H <- handler_modules(), lists:member(H, Transports)] ++
        lists:usort([tcp || {_, ejabberd_c2s, _} <- listeners()]);
metric(tls_option, _Node) ->
    lists:usort([tls_option(Opts) || {_, ejabberd_c2s, Opts} <- listeners(), is_map(Opts)]).

list_or_nil(L) when is_list(L) -> L;
list_or_nil(_) -> [].

modules_per_host() ->
    Hosts = try list_or_nil(ejabberd_option:hosts()) catch _:_ -> [] end,
    [{Host, gen_mod:loaded_modules(Host)} || Host <- Hosts].

lib_dir() ->
    case code:lib_dir(ejabberd) of
        Dir when is_list(Dir) -> Dir;
        _ -> "/nonexistent"
    end.

own(M, LibDir) ->
    case code:which(M) of
        Path when is_list(Path) -> lists:prefix(LibDir, Path);
        _ -> false
    end.

module_backend(Host, M) ->
    try gen_mod:get_module_opts(Host, M) of
        Opts when is_map(Opts), is_map_key(db_type, Opts) -> {ok, [{backend, maps:get(db_type, Opts)}]};
        _ -> {ok, [{none, none}]}
    catch
        Class:Reason -> {error, {Class, iolist_to_binary(io_lib:format("~0P", [Reason, 12]))}}
    end.

listeners() ->
    list_or_nil(ejabberd_option:listen()).

handler_modules() ->
    lists:usort([H || {_, ejabberd_http, Opts} <- listeners(), is_map(Opts),
                      {_, H} <- maps:get(request_handlers, Opts, [])]).

tls_option(#{tls := true}) -> {tls, fast_tls};
tls_option(#{starttls_required := true}) -> {starttls_required, fast_tls};
tls_option(#{starttls := true}) -> {starttls, fast_tls};
tls_option(_) -> {none, none}.
