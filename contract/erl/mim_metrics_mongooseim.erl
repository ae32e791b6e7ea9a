%% The gathering on a MongooseIM node: the calls MongooseIM's own
%% collector (mongoose_system_metrics_collector) makes in the node's
%% generation. It answers only what a report may contain: counts, the
%% names of MongooseIM's own modules with their options, and whitelisted
%% handler names. Host names, domains, custom module names and listener
%% addresses are counted or filtered here and never leave the node.
%%
%% Evaluated on the node by the sidecar with erl_eval: nothing is loaded
%% (see package node). Node is what the sidecar knows of the node:
%% #{version, gen => {Major, Minor, Patch}, features => #{Name => boolean()}
%% (see mim_metrics_probe:features/0), quick and slow (the fields, see
%% mim_metrics_gather:fields/4), timeout, api_whitelist,
%% transport_handlers}.
-module(mim_metrics_mongooseim).
-export([gather/1]).

%% The metrics, in the order of their events in a report (MongooseIM 6.1+'s):
%% each names its event, says what it means and which params it has (the
%% README's "What is sent"), the fields of metric/2 it needs, and how the
%% sidecar makes events of their values (see contract/declare.go and
%% metrics/declared.go). The params that are Erlang atoms (atoms) hold
%% names only, nothing else is kept. Each number has its plausible range, {Param, Min, Max}: what one node
%% can report in one period; the receiver drops values outside. Hosts: a
%% million static hosts and host types; domains: a hundred million dynamic
%% ones; custom modules: 100,000 loaded; components: a million connected to
%% one node; node_number: MongooseIM clusters of up to 1,000 nodes. Stanzas:
%% a node's counter, at a million stanzas a second (far above any node),
%% reaches 10^14 in three years; the increment is the difference of two
%% totals (the total itself on a first report, negative after a reset).
-metric(#{event => host_count, doc => "number of static hosts and host types",
          params => [value], numbers => [{value, 0, 1000000}],
          fields => [{host_count, [quick]}], events => count, dimension => hosts}).
-metric(#{event => domain_count, doc => "number of domains, dynamic ones included (MongooseIM 5.0+)",
          params => [value], numbers => [{value, 0, 100000000}],
          fields => [{domain_count, [quick, {needs, domain_core}]}], events => count,
          dimension => domains}).
-metric(#{event => module_with_opt,
          doc => "one per host type and MongooseIM (or ejabberd) module, with its backends; as in MongooseIM, "
                 "every known module is reported for every host type (the host types × modules cross product)",
          params => [module, backend, online_backend, api_version], atoms => [module, backend, online_backend],
          fields => [modules], events => modules}).
-metric(#{event => custom_module_count,
          doc => "number of loaded modules that are not the server's own; they are never named",
          params => [value], numbers => [{value, 0, 100000}],
          fields => [{custom_module_count, [quick]}], events => count, dimension => custom_modules}).
-metric(#{event => cluster,
          doc => "node uptime (`DDDD-HH:MM:SS`), server version, external components connected to this node, "
                 "cluster size, config format (`toml`, `cfg`, `yml`)",
          params => [uptime, version, component, node_number, config_type],
          numbers => [{component, 0, 1000000}, {node_number, 1, 1000}], atoms => [config_type],
          fields => [{uptime_ms, [quick]}, {node_number, [quick]}, {version, [quick]}, component,
                     {config_path, [quick, {needs, mongoose_config_path}]},
                     {config_path, [quick, {needs, ejabberd_config_path}]}],
          events => cluster}).
-metric(#{event => http_api, doc => "enabled HTTP handlers, from each generation's fixed list",
          params => handlers, fields => [{http_api, [quick]}], events => flags, dimension => http_api}).
-metric(#{event => transport_mechanism, doc => "enabled transports",
          params => transports, fields => [{transport_mechanism, [quick]}], events => flags,
          dimension => transport}).
-metric(#{event => tls_option,
          doc => "TLS mode and library of the client listeners (MongooseIM before 6.4, ejabberd)",
          params => [mode, module], atoms => [mode, module], fields => [{tls_option, [quick]}], events => tls}).
-metric(#{event => outgoing_pool,
          doc => "type of each outgoing connection pool: `rdbms`, `http`, `redis`, ... (MongooseIM 3.7+)",
          params => [value], atoms => [value], fields => [{outgoing_pool, [quick, {since, {3, 7, 0}}]}], events => each_value,
          dimension => pool}).
-metric(#{event => xmpp_stanza_count,
          doc => "messages, IQs and presences sent and received by this node: the total and the increase "
                 "since the previous report (MongooseIM 3.7+)",
          params => [stanza_type, total, increment],
          numbers => [{total, 0, 100000000000000}, {increment, -100000000000000, 100000000000000}],
          atoms => [stanza_type],
          fields => [{stanzas, [{since, {3, 7, 0}}]}], events => stanzas}).
%% Never reported, used by the sidecar itself: the members this node knows
%% (connected, and recorded by Mnesia and CETS: see mim_metrics_members),
%% whether MongooseIM's own service runs, and the Cluster ID. cets_nodes
%% asks CETS's discovery server, which answers from its state (its slow
%% work runs in processes of its own): a quick field, the last one, so
%% that if it hangs it costs only itself.
-metric(#{fields => [{nodes, [quick]}, {db_nodes, [quick]}, {builtin_service, [quick]},
                     {cluster_id, [{needs, cluster_id}]}, {cets_nodes, [quick, {needs, cets_discovery}]}]}).

%% Every field of Node's quick and slow fields (see metric/2), or
%% {stale, Probe} when the node no longer runs the version it was probed
%% for.
gather(#{version := Version, quick := Quick, slow := Slow, timeout := Timeout} = Node) ->
    case mim_metrics_probe:still_runs(mongooseim, Version) of
        true -> mim_metrics_gather:fields(fun(Field) -> metric(Field, Node) end, Quick, Slow, Timeout);
        false -> {stale, mim_metrics_probe:probe()}
    end.

%% The value of one field.
metric(uptime_ms, _Node) ->
    element(1, erlang:statistics(wall_clock));
metric(node_number, _Node) ->
    length(erlang:nodes()) + 1;
%% The members this node knows; never reported.
metric(nodes, _Node) ->
    erlang:nodes();
metric(db_nodes, _Node) ->
    mim_metrics_members:mnesia_nodes();
metric(cets_nodes, _Node) ->
    mim_metrics_members:cets_nodes();
metric(builtin_service, _Node) ->
    is_pid(erlang:whereis(service_mongoose_system_metrics));
metric(version, _Node) ->
    {ok, Version} = application:get_key(mongooseim, vsn),
    Version;
metric(cluster_id, _Node) ->
    mongoose_cluster_id:get_cached_cluster_id();
metric(host_count, Node) ->
    length(list_or_nil(hosts(Node)));
metric(domain_count, _Node) ->
    mongoose_domain_core:domains_count();
metric(config_path, Node) ->
    filename:extension(config_path(Node));
metric(outgoing_pool, Node) ->
    pool_types(Node);
metric(http_api, Node) ->
    ordsets:intersection(handler_modules(Node, listeners(Node)), lists:usort(maps:get(api_whitelist, Node)));
metric(transport_mechanism, Node) ->
    transports(Node);
metric(tls_option, Node) ->
    tls_options(Node);
metric(custom_module_count, Node) ->
    {Known, GenMods} = known_and_gen_modules(hosts_or_none(Node)),
    length(GenMods -- Known);
metric(modules, Node) ->
    Hosts = hosts_or_none(Node),
    {Known, _} = known_and_gen_modules(Hosts),
    {length(Hosts), [{M, module_options(M, Hosts)} || M <- Known]};
metric(component, Node) ->
    components(Node);
metric(stanzas, Node) ->
    case stanza_counts(Node) of
        none -> none;
        Counts -> lists:zip([Type || {Type, _, _} <- stanza_counters()], Counts)
    end.

%% (Maps are read with maps:get/2,3 rather than matched: erl_eval checks
%% each key of a map pattern every time it matches one.)
has(Feature, Node) -> maps:get(Feature, maps:get(features, Node), false).

at_least(Gen, Node) -> maps:get(gen, Node) >= Gen.

list_or_nil(L) when is_list(L) -> L;
list_or_nil(_) -> [].

%% MongooseIM's ?ALL_HOST_TYPES: hosts (3.x-4.x), hosts and host types (5.0+).
hosts(Node) ->
    case has(mongoose_config, Node) of
        true ->
            mongoose_config:get_opt(hosts) ++ mongoose_config:get_opt(host_types);
        false ->
            case at_least({5, 0, 0}, Node) of
                true ->
                    ejabberd_config:get_global_option_or_default(hosts, []) ++
                        ejabberd_config:get_global_option_or_default(host_types, []);
                false ->
                    ejabberd_config:get_global_option(hosts)
            end
    end.

%% The hosts, [] when they cannot be read (host_count then says why).
hosts_or_none(Node) ->
    try list_or_nil(hosts(Node)) catch _:_ -> [] end.

config_path(Node) ->
    case has(mongoose_config_path, Node) of
        true -> mongoose_config:get_config_path();
        false -> ejabberd_config:get_config_path()
    end.

pool_types(Node) ->
    case has(mongoose_config, Node) of
        true ->
            [maps:get(type, P) || P <- mongoose_config:get_opt(outgoing_pools), is_map(P), is_map_key(type, P)];
        false ->
            [element(1, P) || P <- ejabberd_config:get_local_option_or_default(outgoing_pools, []),
                              is_tuple(P), tuple_size(P) >= 1]
    end.

listeners(Node) ->
    case {has(mongoose_config, Node), at_least({3, 7, 0}, Node)} of
        {true, _} -> list_or_nil(mongoose_config:get_opt(listen));
        {false, true} -> list_or_nil(ejabberd_config:get_local_option_or_default(listen, []));
        %% 3.6 crashes when listen is undefined; so do we, for these fields only.
        {false, false} -> list_or_nil(ejabberd_config:get_local_option(listen))
    end.

c2s_module(Node) ->
    case has(c2s_listener, Node) of
        true -> mongoose_c2s_listener;
        false -> ejabberd_c2s
    end.

%% The handler modules of all cowboy listeners.
handler_modules(Node, Listen) ->
    case has(mongoose_config, Node) of
        true ->
            lists:usort([maps:get(module, H) || L <- Listen, is_map(L), maps:get(module, L, none) =:= ejabberd_cowboy,
                                                H <- maps:get(handlers, L, []), is_map(H), is_map_key(module, H)]);
        false ->
            lists:usort([element(3, H) || {modules, Hs} <- lists:flatten([O || {_, ejabberd_cowboy, O} <- Listen]),
                                          H <- Hs, is_tuple(H), tuple_size(H) >= 3])
    end.

transports(Node) ->
    Listen = listeners(Node),
    case has(mongoose_config, Node) of
        true ->
            C2S = c2s_module(Node),
            ordsets:intersection(handler_modules(Node, Listen), lists:usort(maps:get(transport_handlers, Node))) ++
                lists:usort([tcp || L <- Listen, is_map(L), maps:get(module, L, none) =:= C2S, maps:get(proto, L, none) =:= tcp]);
        false ->
            %% 3.x-5.0: BOSH and WebSockets are looked up in the first cowboy
            %% listener's modules only (proplists:get_value/3 returns the first
            %% match), a quirk we reproduce; TCP when a c2s listener has options.
            CowboyOpts = lists:flatten([O || {_, ejabberd_cowboy, O} <- Listen]),
            FirstModules = proplists:get_value(modules, CowboyOpts, []),
            [T || T <- [mod_bosh, mod_websockets], lists:keyfind(T, 3, FirstModules) =/= false] ++
                case [O || {_, ejabberd_c2s, O} <- Listen, O =/= []] of
                    [] -> [];
                    _ -> [tcp]
                end
    end.

tls_options(Node) ->
    Listen = listeners(Node),
    case has(mongoose_config, Node) of
        true ->
            %% 6.4+ dropped the module key, so this finds nothing there, as
            %% in MongooseIM itself.
            C2S = c2s_module(Node),
            lists:usort([{maps:get(mode, TLS), maps:get(module, TLS)}
                         || L <- Listen, is_map(L), maps:get(module, L, none) =:= C2S,
                            TLS <- [maps:get(tls, L, none)], is_map(TLS), is_map_key(mode, TLS), is_map_key(module, TLS)]);
        false ->
            case lists:flatten([O || {_, ejabberd_c2s, O} <- Listen]) of
                [] -> [];
                C2SOpts -> [tls_option(C2SOpts)]
            end
    end.

tls_option(C2SOpts) ->
    case [X || X <- [starttls, starttls_required, tls], lists:member(X, C2SOpts)] of
        [] -> {none, none};
        [Mode | _] ->
            case lists:member({tls_module, just_tls}, C2SOpts) of
                true -> {Mode, just_tls};
                false -> {Mode, fast_tls}
            end
    end.

%% The loaded modules of every host that are MongooseIM's own (they have
%% -behaviour(mongoose_module_metrics)), and those that are gen_mod
%% modules (the custom ones are the others).
known_and_gen_modules(Hosts) ->
    Loaded = [M || M <- lists:usort(lists:append(lists:map(fun gen_mod:loaded_modules/1, Hosts))),
                   is_atom(M), erlang:module_loaded(M)],
    Behaviours = [{M, behaviours(M)} || M <- Loaded],
    {[M || {M, Bs} <- Behaviours, lists:member(mongoose_module_metrics, Bs)],
     [M || {M, Bs} <- Behaviours, lists:member(gen_mod, Bs)]}.

behaviours(M) ->
    Attributes = erlang:get_module_info(M, attributes),
    lists:append(proplists:get_all_values(behaviour, Attributes) ++ proplists:get_all_values(behavior, Attributes)).

%% Module M's config_metrics/1 on every host: none (it has none),
%% {same, Opts} when every host answers the same, {all, [Opts]} (one per
%% host), or, when a call fails, {each, [{ok, Opts} | {error, Why}]}.
%% MongooseIM reports every host type x known module (see moduleEvents).
module_options(M, Hosts) ->
    case erlang:function_exported(M, config_metrics, 1) of
        false ->
            none;
        true ->
            try lists:map(fun M:config_metrics/1, Hosts) of
                All ->
                    case lists:usort(All) of
                        [Same] -> {same, Same};
                        _ -> {all, All}
                    end
            catch
                _:_ -> {each, [module_options_on(M, Host) || Host <- Hosts]}
            end
    end.

module_options_on(M, Host) ->
    try
        {ok, M:config_metrics(Host)}
    catch
        Class:Reason -> {error, {Class, iolist_to_binary(io_lib:format("~0P", [Reason, 12]))}}
    end.

%% The external components connected to this node: the component lookup
%% of every routed domain.
components(Node) ->
    {Lookup, Domains} =
        case {has(mongoose_component, Node), has(mongoose_router, Node)} of
            {true, _} ->
                {fun mongoose_component:lookup_component/2,
                 mongoose_router:get_all_domains() ++ mongoose_component:dirty_get_all_components(all)};
            {false, true} ->
                {fun ejabberd_router:lookup_component/2,
                 mongoose_router:get_all_domains() ++ ejabberd_router:dirty_get_all_components(all)};
            {false, false} ->
                {fun ejabberd_router:lookup_component/2, ejabberd_router:dirty_get_all_domains()}
        end,
    length(lists:flatten([Lookup(D, node()) || D <- Domains])).

%% The six stanza counters, in MongooseIM's order: the type, the direction
%% its counts are kept under (*Sent is what the server receives from
%% clients: in), and the metric (6.3+).
stanza_counters() ->
    [{xmppMessageSent, in, message_count},
     {xmppMessageReceived, out, message_count},
     {xmppIqSent, in, iq_count},
     {xmppIqReceived, out, iq_count},
     {xmppPresenceSent, in, presence_count},
     {xmppPresenceReceived, out, presence_count}].

%% The count of each stanza type, or none when the node keeps no counters.
stanza_counts(Node) ->
    Counters = stanza_counters(),
    case stanza_source(Node) of
        none ->
            none;
        exometer_by_type ->
            [exometer_sum(['_', Type]) || {Type, _, _} <- Counters];
        exometer_c2s ->
            [exometer_sum(['_', element_event(c2s, Dir), Metric]) || {_, Dir, Metric} <- Counters];
        exometer ->
            [exometer_sum(['_', element_event(xmpp, Dir), '_', Metric]) || {_, Dir, Metric} <- Counters];
        prometheus ->
            [prometheus_sum(atom_to_list(element_event(xmpp, Dir)) ++ "_" ++ atom_to_list(Metric))
             || {_, Dir, Metric} <- Counters]
    end.

%% Where the node keeps its stanza counts.
stanza_source(Node) ->
    case {at_least({6, 6, 0}, Node), at_least({6, 4, 0}, Node), at_least({6, 3, 0}, Node)} of
        {true, _, _} ->
            case mongoose_config:get_opt(instrumentation) of
                #{prometheus := _} -> prometheus;
                #{exometer := _} -> exometer;
                _ -> none
            end;
        {false, true, _} ->
            case mongoose_config:lookup_opt([instrumentation, exometer]) of
                {ok, _} -> exometer;
                _ -> none
            end;
        {false, false, true} ->
            exometer_c2s;
        {false, false, false} ->
            exometer_by_type
    end.

element_event(c2s, in) -> c2s_element_in;
element_event(c2s, out) -> c2s_element_out;
element_event(xmpp, in) -> xmpp_element_in;
element_event(xmpp, out) -> xmpp_element_out.

%% The sum of the integer count data points of the exometer metrics that
%% match Pattern.
exometer_sum(Pattern) ->
    lists:sum([C || {_, DataPoints} <- exometer:get_values(Pattern), is_list(DataPoints),
                    {count, C} <- DataPoints, is_integer(C)]).

%% The sum of a Prometheus counter's values over every label set.
prometheus_sum(Name) ->
    lists:sum([V || {_, V} <- prometheus_counter:values(default, Name), is_number(V)]).
