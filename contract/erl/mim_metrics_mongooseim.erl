%% The gathering on a MongooseIM node: the calls MongooseIM's own
%% collector (mongoose_system_metrics_collector) makes in the node's
%% generation. It answers only what a report may contain: counts, the
%% names of MongooseIM's own modules with their options, and whitelisted
%% handler names. Host names, domains, custom module names and listener
%% addresses are counted or filtered here and never leave the node.
%%
%% Evaluated on the node by the sidecar with erl_eval: nothing is loaded
%% (see package node). The gather's argument, Request, is what the sidecar
%% knows of the node: #{version, gen => {Major, Minor, Patch}, features =>
%% #{Name => boolean()} (see mim_metrics_probe:features/0), quick and slow
%% (the fields, see mim_metrics_gather:fields/4), timeout, api_whitelist,
%% transport_handlers}; with the node's configuration era added (see
%% config_era_of/1), it is the context, Ctx, of every field (ctx()).
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

%% The gather's context: what the sidecar knows of the node (see the
%% module's doc) and, once the gather chose it, its configuration era.
-type ctx() :: #{version := string(), gen := generation(), features := #{atom() => boolean()},
                 quick := [atom()], slow := [atom()], timeout := non_neg_integer(),
                 api_whitelist := [module()], transport_handlers := [module()],
                 config_era => config_era()}.

%% A MongooseIM version, {Major, Minor, Patch}.
-type generation() :: {non_neg_integer(), non_neg_integer(), non_neg_integer()}.

%% How the node's configuration is read (see config_era_of/1):
%% - mongoose_config: 5.1+, mongoose_config:get_opt/1, options as maps;
%% - ejabberd_config_5_0: 5.0, ejabberd_config, host types beside the hosts;
%% - ejabberd_config_3_7: 3.7-4.x, ejabberd_config, options as tuples and
%%   property lists;
%% - ejabberd_config_3_6: 3.6 and before, the same, with listen read
%%   without a default (3.6 crashes when listen is undefined; so do we,
%%   for the fields that read it only).
-type config_era() :: mongoose_config | ejabberd_config_5_0 | ejabberd_config_3_7 | ejabberd_config_3_6.

%% Every field of the quick and slow fields of Request (see metric/2), or
%% {stale, Probe} when the node no longer runs the version it was probed
%% for.
-spec gather(ctx()) -> #{atom() => mim_metrics_gather:answer()} | {stale, map()}.
gather(#{version := Version, quick := Quick, slow := Slow, timeout := Timeout} = Request) ->
    case mim_metrics_probe:still_runs(mongooseim, Version) of
        true ->
            Ctx = Request#{config_era => config_era_of(Request)},
            Answer = fun(Field) -> mim_metrics_gather:attempt(fun() -> metric(Field, Ctx) end) end,
            mim_metrics_gather:fields(Answer, Quick, Slow, Timeout);
        false ->
            {stale, mim_metrics_probe:probe()}
    end.

%% The value of one field.
-spec metric(atom(), ctx()) -> term().
metric(uptime_ms, _Ctx) ->
    element(1, erlang:statistics(wall_clock));
metric(node_number, _Ctx) ->
    length(erlang:nodes()) + 1;
%% The members this node knows; never reported.
metric(nodes, _Ctx) ->
    erlang:nodes();
metric(db_nodes, _Ctx) ->
    mim_metrics_members:mnesia_nodes();
metric(cets_nodes, _Ctx) ->
    mim_metrics_members:cets_nodes();
metric(builtin_service, _Ctx) ->
    is_pid(erlang:whereis(service_mongoose_system_metrics));
metric(version, _Ctx) ->
    {ok, Version} = application:get_key(mongooseim, vsn),
    Version;
metric(cluster_id, _Ctx) ->
    mongoose_cluster_id:get_cached_cluster_id();
metric(host_count, Ctx) ->
    length(list_or_nil(hosts(config_era(Ctx))));
metric(domain_count, _Ctx) ->
    mongoose_domain_core:domains_count();
metric(config_path, Ctx) ->
    filename:extension(config_path(Ctx));
metric(outgoing_pool, Ctx) ->
    pool_types(config_era(Ctx));
metric(http_api, Ctx) ->
    Era = config_era(Ctx),
    ordsets:intersection(handler_modules(Era, listeners(Era)), lists:usort(maps:get(api_whitelist, Ctx)));
metric(transport_mechanism, Ctx) ->
    transports(config_era(Ctx), Ctx);
metric(tls_option, Ctx) ->
    tls_options(config_era(Ctx), Ctx);
metric(custom_module_count, Ctx) ->
    {Known, GenMods} = known_and_gen_modules(hosts_or_none(Ctx)),
    length(GenMods -- Known);
metric(modules, Ctx) ->
    Hosts = hosts_or_none(Ctx),
    {Known, _} = known_and_gen_modules(Hosts),
    {length(Hosts), [{M, module_options(M, Hosts)} || M <- Known]};
metric(component, Ctx) ->
    length(lists:flatten(component_lookups(component_registry(Ctx))));
metric(stanzas, Ctx) ->
    case stanza_counts(Ctx) of
        none -> none;
        Counts -> lists:zip([Type || {Type, _, _} <- stanza_counters()], Counts)
    end.

%% (Maps are read with maps:get/2,3 rather than matched: erl_eval checks
%% each key of a map pattern every time it matches one.)

%% Whether the node has Feature (see mim_metrics_probe:features/0).
-spec has(atom(), ctx()) -> boolean().
has(Feature, Ctx) -> maps:get(Feature, maps:get(features, Ctx), false).

-spec generation(ctx()) -> generation().
generation(Ctx) -> maps:get(gen, Ctx).

-spec config_era(ctx()) -> config_era().
config_era(Ctx) -> maps:get(config_era, Ctx).

%% The configuration era of the node: its features say, and where they
%% cannot (before mongoose_config), its generation.
-spec config_era_of(ctx()) -> config_era().
config_era_of(Request) ->
    case has(mongoose_config, Request) of
        true ->
            mongoose_config;
        false ->
            case generation(Request) of
                Gen when Gen >= {5, 0, 0} -> ejabberd_config_5_0;
                Gen when Gen >= {3, 7, 0} -> ejabberd_config_3_7;
                _ -> ejabberd_config_3_6
            end
    end.

-spec list_or_nil(term()) -> list().
list_or_nil(L) when is_list(L) -> L;
list_or_nil(_) -> [].

%% MongooseIM's ?ALL_HOST_TYPES: hosts (3.x-4.x), hosts and host types (5.0+).
-spec hosts(config_era()) -> term().
hosts(mongoose_config) ->
    mongoose_config:get_opt(hosts) ++ mongoose_config:get_opt(host_types);
hosts(ejabberd_config_5_0) ->
    ejabberd_config:get_global_option_or_default(hosts, []) ++
        ejabberd_config:get_global_option_or_default(host_types, []);
hosts(_Before5) ->
    ejabberd_config:get_global_option(hosts).

%% The hosts, [] when they cannot be read (host_count then says why).
-spec hosts_or_none(ctx()) -> list().
hosts_or_none(Ctx) ->
    try list_or_nil(hosts(config_era(Ctx))) catch _:_ -> [] end.

-spec config_path(ctx()) -> string().
config_path(Ctx) ->
    case has(mongoose_config_path, Ctx) of
        true -> mongoose_config:get_config_path();
        false -> ejabberd_config:get_config_path()
    end.

%% The type of each outgoing connection pool.
-spec pool_types(config_era()) -> [atom()].
pool_types(mongoose_config) ->
    [maps:get(type, P) || P <- mongoose_config:get_opt(outgoing_pools), is_map(P), is_map_key(type, P)];
pool_types(_EjabberdConfig) ->
    [element(1, P) || P <- ejabberd_config:get_local_option_or_default(outgoing_pools, []),
                      is_tuple(P), tuple_size(P) >= 1].

-spec listeners(config_era()) -> list().
listeners(mongoose_config) ->
    list_or_nil(mongoose_config:get_opt(listen));
listeners(ejabberd_config_3_6) ->
    list_or_nil(ejabberd_config:get_local_option(listen));
listeners(_EjabberdConfig) ->
    list_or_nil(ejabberd_config:get_local_option_or_default(listen, [])).

-spec c2s_module(ctx()) -> module().
c2s_module(Ctx) ->
    case has(c2s_listener, Ctx) of
        true -> mongoose_c2s_listener;
        false -> ejabberd_c2s
    end.

%% The handler modules of all cowboy listeners.
-spec handler_modules(config_era(), list()) -> [module()].
handler_modules(mongoose_config, Listen) ->
    lists:usort([maps:get(module, H) || L <- Listen, is_map(L), maps:get(module, L, none) =:= ejabberd_cowboy,
                                        H <- maps:get(handlers, L, []), is_map(H), is_map_key(module, H)]);
handler_modules(_EjabberdConfig, Listen) ->
    lists:usort([element(3, H) || {modules, Hs} <- lists:flatten([O || {_, ejabberd_cowboy, O} <- Listen]),
                                  H <- Hs, is_tuple(H), tuple_size(H) >= 3]).

-spec transports(config_era(), ctx()) -> [atom()].
transports(mongoose_config, Ctx) ->
    Listen = listeners(mongoose_config),
    C2S = c2s_module(Ctx),
    ordsets:intersection(handler_modules(mongoose_config, Listen), lists:usort(maps:get(transport_handlers, Ctx))) ++
        lists:usort([tcp || L <- Listen, is_map(L), maps:get(module, L, none) =:= C2S, maps:get(proto, L, none) =:= tcp]);
transports(Era, _Ctx) ->
    %% 3.x-5.0: BOSH and WebSockets are looked up in the first cowboy
    %% listener's modules only (proplists:get_value/3 returns the first
    %% match), a quirk we reproduce; TCP when a c2s listener has options.
    Listen = listeners(Era),
    CowboyOpts = lists:flatten([O || {_, ejabberd_cowboy, O} <- Listen]),
    FirstModules = proplists:get_value(modules, CowboyOpts, []),
    [T || T <- [mod_bosh, mod_websockets], lists:keyfind(T, 3, FirstModules) =/= false] ++
        case [O || {_, ejabberd_c2s, O} <- Listen, O =/= []] of
            [] -> [];
            _ -> [tcp]
        end.

-spec tls_options(config_era(), ctx()) -> [{atom(), atom()}].
tls_options(mongoose_config, Ctx) ->
    %% 6.4+ dropped the module key, so this finds nothing there, as in
    %% MongooseIM itself.
    Listen = listeners(mongoose_config),
    C2S = c2s_module(Ctx),
    lists:usort([{maps:get(mode, TLS), maps:get(module, TLS)}
                 || L <- Listen, is_map(L), maps:get(module, L, none) =:= C2S,
                    TLS <- [maps:get(tls, L, none)], is_map(TLS), is_map_key(mode, TLS), is_map_key(module, TLS)]);
tls_options(Era, _Ctx) ->
    case lists:flatten([O || {_, ejabberd_c2s, O} <- listeners(Era)]) of
        [] -> [];
        C2SOpts -> [tls_option(C2SOpts)]
    end.

-spec tls_option(list()) -> {atom(), atom()}.
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
-spec known_and_gen_modules(list()) -> {[module()], [module()]}.
known_and_gen_modules(Hosts) ->
    Loaded = [M || M <- lists:usort(lists:append(lists:map(fun gen_mod:loaded_modules/1, Hosts))),
                   is_atom(M), erlang:module_loaded(M)],
    Behaviours = [{M, behaviours(M)} || M <- Loaded],
    {[M || {M, Bs} <- Behaviours, lists:member(mongoose_module_metrics, Bs)],
     [M || {M, Bs} <- Behaviours, lists:member(gen_mod, Bs)]}.

-spec behaviours(module()) -> [module()].
behaviours(M) ->
    Attributes = erlang:get_module_info(M, attributes),
    lists:append(proplists:get_all_values(behaviour, Attributes) ++ proplists:get_all_values(behavior, Attributes)).

%% Module M's config_metrics/1 on every host: none (it has none),
%% {same, Opts} when every host answers the same, {all, [Opts]} (one per
%% host), or, when a call fails, {each, [{ok, Opts} | {error, Why}]}.
%% MongooseIM reports every host type x known module (see moduleEvents).
-spec module_options(module(), list()) ->
          none | {same, term()} | {all, [term()]} | {each, [mim_metrics_gather:answer()]}.
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
                _:_ -> {each, [mim_metrics_gather:attempt(fun() -> M:config_metrics(Host) end) || Host <- Hosts]}
            end
    end.

%% Where the node keeps its external components and routed domains: its
%% features say.
-spec component_registry(ctx()) -> mongoose_component | mongoose_router | ejabberd_router.
component_registry(Ctx) ->
    case has(mongoose_component, Ctx) of
        true ->
            mongoose_component;
        false ->
            case has(mongoose_router, Ctx) of
                true -> mongoose_router;
                false -> ejabberd_router
            end
    end.

%% The external components connected to this node: the component lookup
%% of every routed domain.
-spec component_lookups(mongoose_component | mongoose_router | ejabberd_router) -> list().
component_lookups(mongoose_component) ->
    [mongoose_component:lookup_component(D, node())
     || D <- mongoose_router:get_all_domains() ++ mongoose_component:dirty_get_all_components(all)];
component_lookups(mongoose_router) ->
    [ejabberd_router:lookup_component(D, node())
     || D <- mongoose_router:get_all_domains() ++ ejabberd_router:dirty_get_all_components(all)];
component_lookups(ejabberd_router) ->
    [ejabberd_router:lookup_component(D, node()) || D <- ejabberd_router:dirty_get_all_domains()].

%% The six stanza counters, in MongooseIM's order: the type, the direction
%% its counts are kept under (*Sent is what the server receives from
%% clients: in), and the metric (6.3+).
-spec stanza_counters() -> [{atom(), in | out, atom()}].
stanza_counters() ->
    [{xmppMessageSent, in, message_count},
     {xmppMessageReceived, out, message_count},
     {xmppIqSent, in, iq_count},
     {xmppIqReceived, out, iq_count},
     {xmppPresenceSent, in, presence_count},
     {xmppPresenceReceived, out, presence_count}].

%% The count of each stanza type, or none when the node keeps no counters.
-spec stanza_counts(ctx()) -> [integer()] | none.
stanza_counts(Ctx) ->
    Counters = stanza_counters(),
    case stanza_source(Ctx) of
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
-spec stanza_source(ctx()) -> prometheus | exometer | exometer_c2s | exometer_by_type | none.
stanza_source(Ctx) ->
    case generation(Ctx) of
        Gen when Gen >= {6, 6, 0} ->
            case mongoose_config:get_opt(instrumentation) of
                #{prometheus := _} -> prometheus;
                #{exometer := _} -> exometer;
                _ -> none
            end;
        Gen when Gen >= {6, 4, 0} ->
            case mongoose_config:lookup_opt([instrumentation, exometer]) of
                {ok, _} -> exometer;
                _ -> none
            end;
        Gen when Gen >= {6, 3, 0} ->
            exometer_c2s;
        _ ->
            exometer_by_type
    end.

-spec element_event(c2s | xmpp, in | out) -> atom().
element_event(c2s, in) -> c2s_element_in;
element_event(c2s, out) -> c2s_element_out;
element_event(xmpp, in) -> xmpp_element_in;
element_event(xmpp, out) -> xmpp_element_out.

%% The sum of the integer count data points of the exometer metrics that
%% match Pattern.
-spec exometer_sum([atom()]) -> integer().
exometer_sum(Pattern) ->
    lists:sum([C || {_, DataPoints} <- exometer:get_values(Pattern), is_list(DataPoints),
                    {count, C} <- DataPoints, is_integer(C)]).

%% The sum of a Prometheus counter's values over every label set.
-spec prometheus_sum(string()) -> number().
prometheus_sum(Name) ->
    lists:sum([V || {_, V} <- prometheus_counter:values(default, Name), is_number(V)]).
