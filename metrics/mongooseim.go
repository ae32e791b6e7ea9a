package metrics

import (
	"strings"
)

// The Erlang source below is evaluated on a MongooseIM node in one round
// trip. It makes the calls MongooseIM's own collector
// (mongoose_system_metrics_collector) makes in the node's generation, and
// answers only what a report may contain: counts, the names of MongooseIM's
// own modules with their options, and whitelisted handler names. Host names,
// domains, custom module names and listener addresses are counted or
// filtered inside the node and never cross the wire.
//
// Every field is computed by Field, in its own process with a time limit,
// so a call that fails or hangs costs only its own fields:
// {ok, Value} or {error, {Class, Reason}}.

// gatherPrelude defines the helpers every gather source uses.
const gatherPrelude = `
Try = fun(F) ->
    try {ok, F()}
    catch C:R -> {error, {C, iolist_to_binary(io_lib:format("~0P", [R, 12]))}}
    end
end,
Field = fun(F) ->
    Self = self(), Tag = make_ref(),
    {Pid, MRef} = spawn_monitor(fun() -> Self ! {Tag, Try(F)} end),
    receive
        {Tag, Res} -> erlang:demonitor(MRef, [flush]), Res;
        {'DOWN', MRef, process, _, Why} -> {error, {exit, iolist_to_binary(io_lib:format("~0P", [Why, 12]))}}
    after FieldTimeout ->
        exit(Pid, kill), erlang:demonitor(MRef, [flush]),
        {error, {timeout, <<"no answer within the field time limit">>}}
    end
end,
Behaves = fun(Mods, B) ->
    lists:filter(fun(M) ->
        try lists:keyfind([B], 2, M:module_info(attributes)) of
            {behavior, _} -> true;
            {behaviour, _} -> true;
            _ -> false
        catch _:_ -> false end
    end, Mods)
end,
`

// mimGatherSource returns the gather expression for a MongooseIM node of
// flavor f. The answer is a map from field name to {ok, V} | {error, _}.
func mimGatherSource(f Flavor) string {
	var b strings.Builder
	b.WriteString(gatherPrelude)
	// Hosts (3.x–4.x) or hosts ++ host types (5.0+): MongooseIM's ?ALL_HOST_TYPES.
	b.WriteString("HostsR = Try(fun() -> " + f.hostsExpr() + " end),\n")
	b.WriteString("Hosts = case HostsR of {ok, HL} when is_list(HL) -> HL; _ -> [] end,\n")
	b.WriteString("ModsR = Try(fun() -> lists:append(lists:map(fun gen_mod:loaded_modules/1, Hosts)) end),\n")
	b.WriteString("AllMods = case ModsR of {ok, AM} when is_list(AM) -> lists:filter(fun erlang:is_atom/1, AM); _ -> [] end,\n")
	b.WriteString("ListenR = Try(fun() -> " + f.listenExpr() + " end),\n")
	b.WriteString("Listen = case ListenR of {ok, LL} when is_list(LL) -> LL; _ -> [] end,\n")
	b.WriteString("Fail = fun({error, _} = E) -> E; (_) -> ok end,\n")
	b.WriteString("#{\n")
	fields := []string{
		"host_count => case HostsR of {ok, _} -> Field(fun() -> length(Hosts) end); E1 -> E1 end",
		// The known-module rule: a module is MongooseIM's own when it has
		// -behaviour(mongoose_module_metrics). MongooseIM reports every
		// host type × known module (a cross product). The loop over host
		// types runs in compiled code (lists:map with an external fun),
		// not in erl_eval; only when a call fails is it redone host by
		// host, so one failure costs one entry. See moduleEvents.
		`modules => case ModsR of {error, _} = E2 -> E2; _ -> Field(fun() ->
            Known = Behaves(lists:usort(AllMods), mongoose_module_metrics),
            {length(Hosts),
             [{M, case erlang:function_exported(M, config_metrics, 1) of
                      false -> none;
                      true ->
                          try {all, lists:map(fun M:config_metrics/1, Hosts)}
                          catch _:_ -> {each, [Try(fun() -> M:config_metrics(H) end) || H <- Hosts]}
                          end
                  end} || M <- Known]}
        end) end`,
		`custom_module_count => case ModsR of {error, _} = E3 -> E3; _ -> Field(fun() ->
            Unique = lists:usort(AllMods),
            GenMods = Behaves(Unique, gen_mod),
            Metrics = Behaves(Unique, mongoose_module_metrics),
            sets:size(sets:subtract(sets:from_list(GenMods), sets:from_list(Metrics)))
        end) end`,
		"uptime_ms => Field(fun() -> element(1, erlang:statistics(wall_clock)) end)",
		"version => Field(fun() -> {_, _, V} = lists:keyfind(mongooseim, 1, application:which_applications()), V end)",
		"component => Field(fun() -> " + f.componentExpr() + " end)",
		"node_number => Field(fun() -> length(erlang:nodes()) + 1 end)",
		"http_api => case Fail(ListenR) of ok -> Field(fun() -> " + f.httpAPIExpr() + " end); E4 -> E4 end",
		"transport_mechanism => case Fail(ListenR) of ok -> Field(fun() -> " + f.transportExpr() + " end); E5 -> E5 end",
		"tls_option => case Fail(ListenR) of ok -> Field(fun() -> " + f.tlsExpr() + " end); E6 -> E6 end",
		"cluster_id => Field(fun() -> mongoose_cluster_id:get_cached_cluster_id() end)",
	}
	if f.has["domain_core"] {
		fields = append(fields, "domain_count => Field(fun() -> mongoose_domain_core:domains_count() end)")
	}
	if e := f.configPathExpr(); e != "" {
		fields = append(fields, "config_path => Field(fun() -> filename:extension("+e+") end)")
	}
	if f.atLeast(3, 7, 0) {
		fields = append(fields, "outgoing_pool => Field(fun() -> "+f.poolsExpr()+" end)")
		fields = append(fields, "stanzas => Field(fun() -> "+f.stanzasExpr()+" end)")
	}
	b.WriteString(strings.Join(fields, ",\n"))
	b.WriteString("\n}.\n")
	return b.String()
}

func (f Flavor) usesMongooseConfig() bool { return f.has["mongoose_config"] }

func (f Flavor) hostsExpr() string {
	switch {
	case f.usesMongooseConfig():
		return "mongoose_config:get_opt(hosts) ++ mongoose_config:get_opt(host_types)"
	case f.atLeast(5, 0, 0):
		return "ejabberd_config:get_global_option_or_default(hosts, []) ++ ejabberd_config:get_global_option_or_default(host_types, [])"
	}
	return "ejabberd_config:get_global_option(hosts)"
}

func (f Flavor) listenExpr() string {
	switch {
	case f.usesMongooseConfig():
		return "mongoose_config:get_opt(listen)"
	case f.atLeast(3, 7, 0):
		return "ejabberd_config:get_local_option_or_default(listen, [])"
	}
	// 3.6 crashes when listen is undefined; so do we, for this field only.
	return "ejabberd_config:get_local_option(listen)"
}

func (f Flavor) componentExpr() string {
	switch {
	case f.has["mongoose_component"]:
		return "length(lists:flatten([mongoose_component:lookup_component(D, node()) || D <- mongoose_router:get_all_domains() ++ mongoose_component:dirty_get_all_components(all)]))"
	case f.has["mongoose_router"]:
		return "length(lists:flatten([ejabberd_router:lookup_component(D, node()) || D <- mongoose_router:get_all_domains() ++ ejabberd_router:dirty_get_all_components(all)]))"
	}
	return "length(lists:flatten([ejabberd_router:lookup_component(D, node()) || D <- ejabberd_router:dirty_get_all_domains()]))"
}

// apiWhitelist is filter_unknown_api/1 of each generation: the HTTP
// handlers MongooseIM reports by name.
func (f Flavor) apiWhitelist() []string {
	switch {
	case f.atLeast(6, 6, 0):
		return []string{"mongoose_bosh_handler", "mongoose_graphql_handler", "mongoose_websocket_handler"}
	case f.atLeast(6, 0, 0):
		return []string{"mongoose_client_api", "mongoose_admin_api", "mod_bosh", "mod_websockets"}
	case f.atLeast(5, 1, 0):
		return []string{"mongoose_api", "mongoose_client_api", "mongoose_api_admin", "mongoose_api_client",
			"mongoose_domain_handler", "mod_bosh", "mod_websockets"}
	}
	return []string{"mongoose_api", "mongoose_client_api_rooms_messages", "mongoose_client_api_rooms_users",
		"mongoose_client_api_rooms_config", "mongoose_client_api_rooms", "mongoose_client_api_contacts",
		"mongoose_client_api_messages", "lasse_handler", "mongoose_api_admin", "mod_bosh", "mod_websockets", "mod_revproxy"}
}

// transportHandlers are the HTTP handlers that count as transports.
func (f Flavor) transportHandlers() []string {
	if f.atLeast(6, 6, 0) {
		return []string{"mongoose_bosh_handler", "mongoose_websocket_handler"}
	}
	return []string{"mod_bosh", "mod_websockets"}
}

func erlAtoms(names []string) string { return "[" + strings.Join(names, ", ") + "]" }

// handlerModulesExpr lists the handler modules of all cowboy listeners.
func (f Flavor) handlerModulesExpr() string {
	if f.usesMongooseConfig() {
		return "lists:usort([HM || #{module := ejabberd_cowboy, handlers := Hs} <- Listen, #{module := HM} <- Hs])"
	}
	return "lists:usort([element(3, HM) || {modules, HMs} <- lists:flatten([O || {_, ejabberd_cowboy, O} <- Listen]), HM <- HMs, is_tuple(HM), tuple_size(HM) >= 3])"
}

func (f Flavor) httpAPIExpr() string {
	return "[A || A <- " + f.handlerModulesExpr() + ", lists:member(A, " + erlAtoms(f.apiWhitelist()) + ")]"
}

func (f Flavor) c2sModule() string {
	if f.has["c2s_listener"] {
		return "mongoose_c2s_listener"
	}
	return "ejabberd_c2s"
}

func (f Flavor) transportExpr() string {
	if f.usesMongooseConfig() {
		return "[HM || HM <- " + f.handlerModulesExpr() + ", lists:member(HM, " + erlAtoms(f.transportHandlers()) + ")]" +
			" ++ lists:usort([tcp || #{module := " + f.c2sModule() + ", proto := tcp} <- Listen])"
	}
	// 3.x–5.0: BOSH and WebSockets are looked up in the first cowboy
	// listener's modules only (proplists:get_value returns the first match),
	// a quirk we reproduce; TCP when any c2s listener has options.
	return `CowOpts = lists:flatten([O || {_, ejabberd_cowboy, O} <- Listen]),
        FirstMods = proplists:get_value(modules, CowOpts, []),
        [TM || TM <- [mod_bosh, mod_websockets], lists:keyfind(TM, 3, FirstMods) =/= false]
        ++ case [O || {_, ejabberd_c2s, O} <- Listen, O =/= []] of [] -> []; _ -> [tcp] end`
}

func (f Flavor) tlsExpr() string {
	if f.usesMongooseConfig() {
		// 6.4+ dropped the module key, so this finds nothing there, as in
		// MongooseIM itself.
		return "lists:usort([{Mode, TMod} || #{module := " + f.c2sModule() + ", tls := #{mode := Mode, module := TMod}} <- Listen])"
	}
	return `C2SOpts = lists:flatten([O || {_, ejabberd_c2s, O} <- Listen]),
        case C2SOpts of
            [] -> [];
            _ ->
                Mode = case [X || X <- [starttls, starttls_required, tls], lists:member(X, C2SOpts)] of
                           [First | _] -> First;
                           [] -> none
                       end,
                TMod = case Mode of
                           none -> none;
                           _ -> case lists:member({tls_module, just_tls}, C2SOpts) of true -> just_tls; false -> fast_tls end
                       end,
                [{Mode, TMod}]
        end`
}

func (f Flavor) configPathExpr() string {
	switch {
	case f.has["mongoose_config_path"]:
		return "mongoose_config:get_config_path()"
	case f.has["ejabberd_config_path"]:
		return "ejabberd_config:get_config_path()"
	}
	return ""
}

func (f Flavor) poolsExpr() string {
	if f.usesMongooseConfig() {
		return "[PT || #{type := PT} <- mongoose_config:get_opt(outgoing_pools)]"
	}
	return "[element(1, P) || P <- ejabberd_config:get_local_option_or_default(outgoing_pools, []), is_tuple(P), tuple_size(P) >= 1]"
}

// stanzaTypes are the six counters, in MongooseIM's order, with the event
// and metric names that generations 6.3+ read them from (*Sent is what
// the server receives from clients: element_in).
const stanzaPrelude = `Types = [{xmppMessageSent, xmpp_element_in, c2s_element_in, message_count},
             {xmppMessageReceived, xmpp_element_out, c2s_element_out, message_count},
             {xmppIqSent, xmpp_element_in, c2s_element_in, iq_count},
             {xmppIqReceived, xmpp_element_out, c2s_element_out, iq_count},
             {xmppPresenceSent, xmpp_element_in, c2s_element_in, presence_count},
             {xmppPresenceReceived, xmpp_element_out, c2s_element_out, presence_count}],
        SumExo = fun(Vals) -> lists:foldl(fun({_, DPs}, Acc) when is_list(DPs) ->
                                               case lists:keyfind(count, 1, DPs) of
                                                   {count, Cnt} when is_integer(Cnt) -> Acc + Cnt;
                                                   _ -> Acc
                                               end;
                                          (_, Acc) -> Acc end, 0, Vals) end,
        Exo64 = fun() -> [{Ty, SumExo(exometer:get_values(['_', Ev, '_', Met]))} || {Ty, Ev, _, Met} <- Types] end,
        `

func (f Flavor) stanzasExpr() string {
	switch {
	case f.atLeast(6, 6, 0):
		return stanzaPrelude + `Prom = fun() -> [{Ty, lists:sum([PV || {_, PV} <- prometheus_counter:values(default, atom_to_list(Ev) ++ "_" ++ atom_to_list(Met)), is_number(PV)])} || {Ty, Ev, _, Met} <- Types] end,
        case mongoose_config:get_opt(instrumentation) of
            #{prometheus := _} -> Prom();
            #{exometer := _} -> Exo64();
            _ -> none
        end`
	case f.atLeast(6, 4, 0):
		return stanzaPrelude + `case mongoose_config:lookup_opt([instrumentation, exometer]) of
            {ok, _} -> Exo64();
            _ -> none
        end`
	case f.atLeast(6, 3, 0):
		return stanzaPrelude + `[{Ty, SumExo(exometer:get_values(['_', C2S, Met]))} || {Ty, _, C2S, Met} <- Types]`
	}
	return stanzaPrelude + `[{Ty, SumExo(exometer:get_values(['_', Ty]))} || {Ty, _, _, _} <- Types]`
}

// GatherSource returns the Erlang source that gathers every metric from a
// node of flavor f in one evaluation (the benchmark compiles it on the node
// as its in-node baseline). It expects the variable FieldTimeout (ms).
func GatherSource(f Flavor) string {
	if f.Server == Ejabberd {
		return ejabberdGatherSource
	}
	return mimGatherSource(f)
}
