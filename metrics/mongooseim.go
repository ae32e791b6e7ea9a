package metrics

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mim-metrics/mim-metrics/etf"
)

// The Erlang source below is evaluated on a MongooseIM node in one round
// trip. It makes the calls MongooseIM's own collector
// (mongoose_system_metrics_collector) makes in the node's generation, and
// answers only what a report may contain: counts, the names of MongooseIM's
// own modules with their options, and whitelisted handler names. Host names,
// domains, custom module names and listener addresses are counted or
// filtered inside the node and never cross the wire.
//
// Fields whose calls cannot block (BIFs, reads of the configuration) are
// computed by the gathering process itself; the others (module callbacks,
// calls to servers) in processes of their own, all at once, under one time
// limit, so a call that fails or hangs costs only its own fields:
// {ok, Value} or {error, {Class, Reason}}. The answer comes within
// FieldTimeout whatever hangs.
//
// The source is written for erl_eval's speed, which is what a collection
// costs on top of the calls themselves:
//   - loops over hosts (and over anything per host, such as stanza
//     counters) are compiled library calls: lists:map, lists:zipwith3 with
//     external funs, match specifications; never interpreted
//     comprehensions;
//   - it creates no funs and matches no map patterns: erl_eval lints the
//     body of every fun it creates and every key of a map pattern it
//     matches, which costs more than all the calls of a small node. A
//     process is started with spawn_eval/2 (see package node), failures
//     are caught with catch (cheaper than try), maps are read with guards
//     and match specifications;
//   - few variables are bound at any time (see scope, and spawn_eval's
//     bindings): erl_eval merges all bindings at every argument of every
//     call it evaluates;
//   - constant terms are written with erlConst, which package node turns
//     into literals when it prepares the source.

// gatherBuilder writes a gather source, numbering the variables it binds.
type gatherBuilder struct {
	n       int
	pending []string // spawn_eval of each group
	names   []string // the fields of all groups
	msgs    int      // the messages all groups send
	inlined []string // lists of {Name, Result} computed by the gathering process
}

// vars returns fresh variable names, one per prefix.
func (g *gatherBuilder) vars(prefixes ...string) []string {
	g.n++
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = fmt.Sprintf("%s%d_", p, g.n)
	}
	return out
}

// try is `try {ok, Body} catch C:R -> {error, {C, Text}} end`, with Text
// the reason printed with a depth limit (for per-host results, which are
// part of a field's value).
func (g *gatherBuilder) try(body string) string {
	v := g.vars("C", "R")
	return "try {ok, begin " + body + " end} catch " + v[0] + ":" + v[1] + " -> {error, {" + v[0] +
		`, iolist_to_binary(io_lib:format("~0P", [` + v[1] + `, 12]))}} end`
}

// part is one field of a group: its name and the expression of its value.
// A part is sent with the parts before it unless it is alone: a part that
// may take long (or hang) is sent alone, after the others.
type part struct {
	name, body string
	alone      bool
}

func p(name, body string) part     { return part{name: name, body: body} }
func alone(name, body string) part { return part{name: name, body: body, alone: true} }

// section computes the parts' fields, in order, after the shared
// expressions (which bind what the parts use), and returns the
// expressions that do it, for process. The results, each part's value
// or, when it failed, {'EXIT', Why} (catch Expr: cheaper for erl_eval than
// try), are sent to the gathering process in messages
// {gathered, [{Name, Result}]}; when the shared expressions fail, every
// field of the section fails with them.
func (g *gatherBuilder) section(shared string, parts ...part) string {
	var names, msgs, batch, failed, batchNames []string
	v := g.vars("C", "R")
	flush := func() {
		if len(batch) > 0 {
			msgs = append(msgs, "Self ! {gathered, ["+strings.Join(batch, ",\n")+"]}")
			// When the shared expressions fail, each message still comes,
			// with the failure for each of its fields.
			failed = append(failed, "Self ! {gathered, [{GN_, {'EXIT', {"+v[1]+", ["+v[0]+"]}}} || GN_ <- "+erlAtoms(batchNames)+"]}")
			batch, batchNames = nil, nil
		}
	}
	for _, p := range parts {
		if p.alone {
			flush()
		}
		names = append(names, p.name)
		batchNames = append(batchNames, p.name)
		batch = append(batch, "{"+p.name+", catch begin "+p.body+" end}")
	}
	flush()
	body := strings.Join(msgs, ",\n")
	if shared != "" {
		body = "try " + shared + ",\n" + body + "\ncatch " + v[0] + ":" + v[1] + " -> " +
			rarely([]string{"Self", v[0], v[1]}, strings.Join(failed, ",\n")) + " end"
	}
	g.names = append(g.names, names...)
	g.msgs += len(msgs)
	return body
}

// inline computes the parts' fields in the gathering process itself,
// after the shared expressions, while the processes run: for fields that
// cannot block (BIFs, reads of the configuration), which so cost neither a
// process nor a message. It is a scope of its own.
func (g *gatherBuilder) inline(shared string, parts ...part) {
	var names, items []string
	for _, p := range parts {
		names = append(names, p.name)
		items = append(items, "{"+p.name+", catch begin "+p.body+" end}")
	}
	body := "[" + strings.Join(items, ",\n") + "]"
	if shared != "" {
		v := g.vars("C", "R")
		body = "try " + shared + ",\n" + body + "\ncatch " + v[0] + ":" + v[1] + " -> " +
			rarely([]string{v[0], v[1]}, "[{GN_, {'EXIT', {"+v[1]+", ["+v[0]+"]}}} || GN_ <- "+erlAtoms(names)+"]") + " end"
	}
	g.names = append(g.names, names...)
	g.inlined = append(g.inlined, scope(nil, body))
}

// group adds a process computing one section.
func (g *gatherBuilder) group(shared string, parts ...part) { g.process(g.section(shared, parts...)) }

// process adds a process that runs the sections one after the other.
// Fields whose calls may block go to a process of their own, or last in
// one, each in a message of its own: a call that blocks costs only its
// own field and those after it in its process.
func (g *gatherBuilder) process(sections ...string) {
	g.pending = append(g.pending, "spawn_eval(#{'Self' => Self}, begin "+strings.Join(sections, ",\n")+" end)")
}

// source is the gather: start every group, take their messages as they
// come until all are in or the time limit passes, stop the processes, and
// make the answer map (see GatherSource). It keeps as few variables bound
// as it can: erl_eval merges all bindings at every argument of every call.
func (g *gatherBuilder) source() string {
	a := func(s string) etf.Atom { return etf.Atom(s) }
	// {Name, {'EXIT', {Reason, Stack}}} (an error) -> {Name, error, Reason};
	// {Name, {'EXIT', Reason}} (an exit) -> {Name, exit, Reason}.
	errors := matchSpec(
		tuple(tuple(a("$1"), tuple(a("EXIT"), tuple(a("$2"), a("$3")))), list(tuple(a("is_list"), a("$3"))),
			list(tuple(tuple(a("$1"), a("error"), a("$2"))))),
		msClause(tuple(a("$1"), tuple(a("EXIT"), a("$2"))), tuple(tuple(a("$1"), a("exit"), a("$2")))))
	// {Name, Value} -> {Name, {ok, Value}}
	oks := matchSpec(msClause(tuple(a("$1"), a("$2")), tuple(tuple(a("$1"), tuple(tuple(a("ok"), a("$2")))))))
	return "Self = self(),\nPids = [\n" + strings.Join(g.pending, ",\n") + "\n],\n" +
		fmt.Sprintf(gatherCollect, "lists:append(["+strings.Join(g.inlined, ",\n")+"])", g.msgs,
			fmt.Sprintf(gatherAnswer, len(g.names), errors, oks,
				rarely([]string{"Got", "GotErrs"}, fmt.Sprintf(gatherFailures, erlConst(atoms(g.names...)), oks))))
}

// gatherCollect computes the inline fields (the first argument) while the
// groups run, takes the groups' messages (their count is the second
// argument) until the timer FieldTimeout ends, stops the processes in
// Pids, and makes the answer map (see gatherAnswer), the third argument,
// from Got. The inline fields are bound to no variable: each variable
// bound costs erl_eval at every argument after.
const gatherCollect = `TRef = erlang:start_timer(FieldTimeout, Self, gathered),
Got = %s ++ lists:append([receive {gathered, GotL} -> GotL; {timeout, TRef, gathered} = TM -> Self ! TM, [] end || _ <- lists:seq(1, %d)]),
erlang:cancel_timer(TRef),
lists:zipwith(fun erlang:exit/2, Pids, lists:duplicate(length(Pids), kill)),
%s`

// gatherAnswer makes the answer map from Got, the fields that came:
// {ok, Value} for each. When a field failed (the second argument, a match
// specification, picks them) or did not come (the first argument is the
// count of fields), the answer is made by the fourth argument
// (gatherFailures, a rarely expression: decoded only then). The third
// argument is a match specification that wraps the values.
const gatherAnswer = `case ets:match_spec_run(Got, ets:match_spec_compile(%[2]s)) of
    [] when length(Got) =:= %[1]d -> maps:from_list(ets:match_spec_run(Got, ets:match_spec_compile(%[3]s)));
    GotErrs -> %[4]s
end`

// gatherFailures is the answer map when a field failed or did not come:
// {ok, Value}, {error, {Class, Text}} for a field that failed (GotErrs,
// the reason printed with a depth limit), or a timeout error for the
// names (the first argument) that did not come. The second argument is
// the match specification that wraps the values.
const gatherFailures = `maps:merge(maps:from_list([{TN, {error, {timeout, <<"no answer within the field time limit">>}}} || TN <- %s -- proplists:get_keys(Got)]),
           maps:merge(maps:from_list(ets:match_spec_run(Got, ets:match_spec_compile(%s))),
                      maps:from_list([{EN, {error, {EC, iolist_to_binary(io_lib:format("~0P", [ER, 12]))}}} || {EN, EC, ER} <- GotErrs])))`

// behavesExpr lists the modules of Loaded (loaded modules, Attrs their
// attributes) that declare behaviour B, in compiled code: the attribute
// whose value is [B] (lists:keyfind/3 over every module at once), kept when
// it is behaviour or behavior (a match specification).
func behavesExpr(b string) string {
	return "ets:match_spec_run(lists:zip(Loaded, lists:zipwith3(fun lists:keyfind/3, lists:duplicate(length(Loaded), [" + b + "]), " +
		"lists:duplicate(length(Loaded), 2), Attrs)), " +
		"ets:match_spec_compile(" + behavesMS + "))"
}

// behavesMS is [{{'$1', {behaviour, '_'}}, [], ['$1']}, {{'$1', {behavior, '_'}}, [], ['$1']}].
var behavesMS = matchSpec(
	msClause(tuple(etf.Atom("$1"), tuple(etf.Atom("behaviour"), etf.Atom("_"))), etf.Atom("$1")),
	msClause(tuple(etf.Atom("$1"), tuple(etf.Atom("behavior"), etf.Atom("_"))), etf.Atom("$1")))

// matchSpecRun is ets:match_spec_run(List, ets:match_spec_compile(MS)): a
// match specification filters and maps a list in compiled code, map
// patterns included.
func matchSpecRun(list, ms string) string {
	return "ets:match_spec_run(" + list + ", ets:match_spec_compile(" + ms + "))"
}

// modulesExpr is the options of the known modules (Known) on every host
// (Hosts). The calls are made in compiled code, all at once: every
// config_metrics/1 of every module on every host (erlang:apply/3 over
// the cross product), and the answer lists each distinct result once, with
// an index per call, which keeps it small for thousands of hosts:
// {HostCount, Known, Exporting, Distinct, Indexes}, Indexes module by
// module (the modules of Exporting, those with config_metrics/1), host by
// host. When a call fails, the modules are redone one by one (see
// perHostExpr): {HostCount, [{Module, Result}]}.
func modulesExpr(g *gatherBuilder) string {
	exporting := matchSpec(msClause(tuple(etf.Atom("$1"), etf.Atom("true")), etf.Atom("$1")))
	return `try
    Exp = ets:match_spec_run(lists:zip(Known, lists:zipwith3(fun erlang:function_exported/3, Known,
              lists:duplicate(length(Known), config_metrics), lists:duplicate(length(Known), 1))), ets:match_spec_compile(` + exporting + `)),
    NH = length(Hosts),
    Res = lists:zipwith3(fun erlang:apply/3,
              lists:append(lists:zipwith(fun lists:duplicate/2, lists:duplicate(length(Exp), NH), Exp)),
              lists:duplicate(NH * length(Exp), config_metrics),
              lists:append(lists:duplicate(length(Exp), lists:map(fun erlang:tuple_to_list/1, lists:zipwith(fun erlang:make_tuple/2, lists:duplicate(NH, 1), Hosts))))),
    Distinct = maps:keys(maps:from_list(lists:zip(Res, Res))),
    {NH, Known, Exp, Distinct, lists:zipwith(fun maps:get/2, Res, lists:duplicate(length(Res), maps:from_list(lists:zip(Distinct, lists:seq(0, length(Distinct) - 1)))))}
catch _:_ -> ` + rarely([]string{"Hosts", "Known"}, `
    {length(Hosts),
     [{M, case erlang:function_exported(M, config_metrics, 1) of
              false -> none;
              true -> `+g.perHostExpr("M", "config_metrics", "Hosts")+`
          end} || M <- Known]}`) + `
end`
}

// perHostExpr calls Mod:Fun(Host) for every host in compiled code: {all,
// Results} or, when all hosts answer the same, {same, Result}, which keeps
// the answer small for thousands of hosts. When a call fails, the calls are
// redone host by host so that one failure costs one entry: {each, [{ok, R}
// | {error, Why}]}.
func (g *gatherBuilder) perHostExpr(mod, fun, hosts string) string {
	return "try lists:map(fun " + mod + ":" + fun + "/1, " + hosts + ") of\n" +
		"    PHL -> case PHL =/= [] andalso lists:duplicate(length(PHL), hd(PHL)) =:= PHL of true -> {same, hd(PHL)}; false -> {all, PHL} end\n" +
		"catch _:_ -> {each, [" + g.try(mod+":"+fun+"(PHost)") + " || PHost <- " + hosts + "]} end"
}

// versionGuard is true when the node still runs version v of app (always
// true when v is unknown).
func versionGuard(app, v string) string {
	if v == "" {
		return "true"
	}
	lit := erlString(v)
	return "case application:get_key(" + app + ", vsn) of {ok, " + lit + "} -> true; {ok, GV} when is_binary(GV) -> GV =:= unicode:characters_to_binary(" + lit + "); _ -> false end"
}

// erlString is s as an Erlang string literal.
func erlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString("\\n")
		case r < 0x20 || r > 0x7e:
			fmt.Fprintf(&b, "\\x{%x}", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// guarded wraps a gather: when the node no longer runs the version the
// flavor was probed for (an upgrade, another node under the same name), it
// answers {stale, Probe} instead, with the probe's answer, so that the
// collector can gather again with the right flavor at the cost of one
// round trip, not two. The probe is a string literal, parsed only then (a
// string costs little in the form sent with every gather).
func guarded(app, version, gather string) string {
	return "case " + versionGuard(app, version) + " of\n" +
		"true ->\n" + gather + ";\n" +
		"false -> {stale, " + rarely(nil, "begin\n"+
		"    {ok, PTs_, _} = erl_scan:string("+erlString(probeSource)+"),\n"+
		"    {ok, PEs_} = erl_parse:parse_exprs(PTs_),\n"+
		"    {value, PV_, _} = erl_eval:exprs(PEs_, erl_eval:new_bindings()),\n"+
		"    PV_\nend") + "}\nend.\n"
}

// hostsVar binds Hosts to the hosts list ([] when the call fails or
// answers no list, as host_count then reports the failure).
func (f Flavor) hostsVar() string {
	return "Hosts = " + listOrNil("try "+f.hostsExpr()+" catch _:_ -> [] end")
}

// rarely is the value of the expression e, which only the variables vars
// of the enclosing expressions are visible to. Package node keeps e encoded
// in the prepared form and decodes it only when it is evaluated, so the
// branches a gather seldom takes (failures, a stale flavor) cost a gather
// nothing.
func rarely(vars []string, e string) string { return withVars("rarely", vars, e) }

// scope is the value of the expressions es, evaluated with only the
// variables vars of the enclosing expressions: erl_eval merges every
// variable bound at every argument it evaluates, so a part with few
// variables of its own costs less in a scope of its own. Its variables do
// not outlive it.
func scope(vars []string, es string) string { return withVars("scope", vars, es) }

// withVars is fun(#{'V' => V, ...}, begin e end), the call package node
// prepares for rarely/2 and scope/2.
func withVars(fun string, vars []string, e string) string {
	bs := make([]string, len(vars))
	for i, v := range vars {
		bs[i] = "'" + v + "' => " + v
	}
	return fun + "(#{" + strings.Join(bs, ", ") + "}, begin " + e + " end)"
}

// listOrNil is the value of e when it is a list, else []: compiled, so
// that it binds no variable.
func listOrNil(e string) string {
	return "hd(lists:filter(fun erlang:is_list/1, [" + e + ", []]))"
}

// mimGatherSource returns the gather expression for a MongooseIM node of
// flavor f. The answer is a map from field name to {ok, V} | {error, _}.
func mimGatherSource(f Flavor) string {
	g := &gatherBuilder{}
	// BIFs and configuration reads: these do not block. Hosts (3.x–4.x)
	// or hosts ++ host types (5.0+): MongooseIM's ?ALL_HOST_TYPES.
	quick := []part{
		p("uptime_ms", "element(1, erlang:statistics(wall_clock))"),
		p("node_number", "length(erlang:nodes()) + 1"),
		p("builtin_service", "is_pid(erlang:whereis(service_mongoose_system_metrics))"),
		p("host_count", "length("+listOrNil(f.hostsExpr())+")"),
		// The members a seed knows (see Collector.Collect); never reported.
		p("nodes", "erlang:nodes()"),
	}
	if f.has["domain_core"] {
		quick = append(quick, p("domain_count", "mongoose_domain_core:domains_count()"))
	}
	if e := f.configPathExpr(); e != "" {
		quick = append(quick, p("config_path", "filename:extension("+e+")"))
	}
	if f.atLeast(3, 7, 0) {
		quick = append(quick, p("outgoing_pool", f.poolsExpr()))
	}
	g.inline("", quick...)
	// Listeners: the answer of one call, read three ways.
	g.inline(f.listenVar()+",\nHMsR = "+g.tryRaw(f.handlerModulesExpr()),
		p("http_api", "ordsets:intersection("+g.okOrRaise("HMsR")+", "+erlConst(atoms(sorted(f.apiWhitelist())...))+")"),
		p("transport_mechanism", f.transportExpr(g)),
		p("tls_option", f.tlsExpr()))
	// The known-module rule: a module is MongooseIM's own when it has
	// -behaviour(mongoose_module_metrics). MongooseIM reports every host
	// type × known module (a cross product); see moduleEvents. Custom
	// modules are the other gen_mod modules. The count comes first: the
	// options may take long (config_metrics/1 of every module on every
	// host).
	knownAndGenMods := scope([]string{"Hosts"},
		"Loaded = lists:filter(fun erlang:module_loaded/1, lists:usort(lists:filter(fun erlang:is_atom/1, lists:append(lists:map(fun gen_mod:loaded_modules/1, Hosts))))),\n"+
			"Attrs = lists:zipwith(fun erlang:get_module_info/2, Loaded, lists:duplicate(length(Loaded), attributes)),\n"+
			"{"+behavesExpr("mongoose_module_metrics")+", "+behavesExpr("gen_mod")+"}")
	g.process(g.section(f.hostsVar()+",\n{Known, GenMods} = "+knownAndGenMods,
		p("custom_module_count", "length(GenMods -- Known)"),
		alone("modules", scope([]string{"Hosts", "Known"}, modulesExpr(g)))))
	// Reads of tables (ETS, Mnesia), then the one call to a server.
	calls := []part{alone("component", f.componentExpr()), alone("cluster_id", "mongoose_cluster_id:get_cached_cluster_id()")}
	if f.atLeast(3, 7, 0) {
		calls = append([]part{alone("stanzas", f.stanzasExpr())}, calls...)
	}
	calls = append(calls, alone("version", "element(3, lists:keyfind(mongooseim, 1, application:which_applications()))"))
	g.process(g.section("", calls...))
	return guarded("mongooseim", f.Version, g.source())
}

// sorted returns a sorted copy of names.
func sorted(names []string) []string {
	out := append([]string(nil), names...)
	sort.Strings(out)
	return out
}

// tryRaw is `try {ok, Body} catch C:R -> {error, {C, R}} end`.
func (g *gatherBuilder) tryRaw(body string) string {
	v := g.vars("C", "R")
	return "try {ok, begin " + body + " end} catch " + v[0] + ":" + v[1] + " -> {error, {" + v[0] + ", " + v[1] + "}} end"
}

// okOrRaise is the value V of the {ok, V} | {error, {C, R}} (see tryRaw) in
// variable v, raising the error again.
func (g *gatherBuilder) okOrRaise(v string) string {
	n := g.vars("V", "C", "R")
	return "case " + v + " of {ok, " + n[0] + "} -> " + n[0] + "; {error, {" + n[1] + ", " + n[2] + "}} -> erlang:raise(" + n[1] + ", " + n[2] + ", []) end"
}

// listenVar binds Listen to the listeners; it raises when the call does.
func (f Flavor) listenVar() string {
	return "Listen = " + listOrNil(f.listenExpr())
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

// componentExpr counts the external components connected to this node:
// the component lookup of every routed domain, in compiled code
// (lists:zipwith with an external fun), as there may be thousands of
// domains.
func (f Flavor) componentExpr() string {
	lookup, domains := "ejabberd_router:lookup_component/2", "ejabberd_router:dirty_get_all_domains()"
	switch {
	case f.has["mongoose_component"]:
		lookup, domains = "mongoose_component:lookup_component/2", "mongoose_router:get_all_domains() ++ mongoose_component:dirty_get_all_components(all)"
	case f.has["mongoose_router"]:
		domains = "mongoose_router:get_all_domains() ++ ejabberd_router:dirty_get_all_components(all)"
	}
	return "begin CDs = " + domains + ", length(lists:flatten(lists:zipwith(fun " + lookup + ", CDs, lists:duplicate(length(CDs), node())))) end"
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
		// [{#{module => ejabberd_cowboy, handlers => '$1'}, [], ['$1']}], then
		// [{#{module => '$1'}, [], ['$1']}]
		return "lists:usort(" + matchSpecRun(
			"lists:append("+matchSpecRun("Listen", matchSpec(msClause(mapOf(etf.Atom("module"), etf.Atom("ejabberd_cowboy"), etf.Atom("handlers"), etf.Atom("$1")), etf.Atom("$1"))))+")",
			matchSpec(msClause(mapOf(etf.Atom("module"), etf.Atom("$1")), etf.Atom("$1")))) + ")"
	}
	return "lists:usort([element(3, HM) || {modules, HMs} <- lists:flatten([O || {_, ejabberd_cowboy, O} <- Listen]), HM <- HMs, is_tuple(HM), tuple_size(HM) >= 3])"
}

func (f Flavor) c2sModule() string {
	if f.has["c2s_listener"] {
		return "mongoose_c2s_listener"
	}
	return "ejabberd_c2s"
}

func (f Flavor) transportExpr(g *gatherBuilder) string {
	if f.usesMongooseConfig() {
		// [{#{module => C2S, proto => tcp}, [], [tcp]}]
		return "ordsets:intersection(" + g.okOrRaise("HMsR") + ", " + erlConst(atoms(sorted(f.transportHandlers())...)) + ")" +
			" ++ lists:usort(" + matchSpecRun("Listen", matchSpec(msClause(mapOf(etf.Atom("module"), etf.Atom(f.c2sModule()), etf.Atom("proto"), etf.Atom("tcp")), etf.Atom("tcp")))) + ")"
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
		// [{#{module => C2S, tls => #{mode => '$1', module => '$2'}}, [], [{{'$1', '$2'}}]}]
		return "lists:usort(" + matchSpecRun("Listen", matchSpec(msClause(
			mapOf(etf.Atom("module"), etf.Atom(f.c2sModule()), etf.Atom("tls"), mapOf(etf.Atom("mode"), etf.Atom("$1"), etf.Atom("module"), etf.Atom("$2"))),
			tuple(tuple(etf.Atom("$1"), etf.Atom("$2")))))) + ")"
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
		// [{#{type => '$1'}, [], ['$1']}]
		return matchSpecRun("mongoose_config:get_opt(outgoing_pools)", matchSpec(msClause(mapOf(etf.Atom("type"), etf.Atom("$1")), etf.Atom("$1"))))
	}
	return "[element(1, P) || P <- ejabberd_config:get_local_option_or_default(outgoing_pools, []), is_tuple(P), tuple_size(P) >= 1]"
}

// stanzaType is one of the six counters, with the event and metric names
// that generations 6.3+ read it from (*Sent is what the server receives
// from clients: element_in).
type stanzaType struct{ name, event, c2s, metric string }

// stanzaTypes are the six counters, in MongooseIM's order.
var stanzaTypes = []stanzaType{
	{"xmppMessageSent", "xmpp_element_in", "c2s_element_in", "message_count"},
	{"xmppMessageReceived", "xmpp_element_out", "c2s_element_out", "message_count"},
	{"xmppIqSent", "xmpp_element_in", "c2s_element_in", "iq_count"},
	{"xmppIqReceived", "xmpp_element_out", "c2s_element_out", "iq_count"},
	{"xmppPresenceSent", "xmpp_element_in", "c2s_element_in", "presence_count"},
	{"xmppPresenceReceived", "xmpp_element_out", "c2s_element_out", "presence_count"},
}

// stanzaCounts is [{Type, Count}] for the six types, Counts the
// expression of their counts, in order.
func stanzaCounts(counts string) string {
	names := make([]string, len(stanzaTypes))
	for i, t := range stanzaTypes {
		names[i] = t.name
	}
	return "lists:zip(" + erlConst(atoms(names...)) + ", " + counts + ")"
}

// perType is lists:duplicate(6, e): e once for each stanza type.
func perType(e string) string { return fmt.Sprintf("lists:duplicate(%d, %s)", len(stanzaTypes), e) }

// exoSums is the count of each stanza type: the sum of the integer count
// data points of the metrics that match its exometer:get_values/1 pattern
// (pattern gives it). It is compiled code throughout (there is one metric
// per host type, thousands on a large cluster, and six types), each step
// done for the six types at once: the patterns' metrics, their data point
// lists ({Name, DataPoints} with a list), each type's data points in one
// list, their count values, the integer ones, their sum.
func exoSums(pattern func(stanzaType) etf.Term) string {
	a := func(s string) etf.Atom { return etf.Atom(s) }
	patterns := make(etf.List, len(stanzaTypes))
	for i, t := range stanzaTypes {
		patterns[i] = pattern(t)
	}
	dps := matchSpec(tuple(tuple(a("_"), a("$1")), list(tuple(a("is_list"), a("$1"))), list(a("$1"))))
	ints := matchSpec(tuple(a("$1"), list(tuple(a("is_integer"), a("$1"))), list(a("$1"))))
	return "lists:map(fun lists:sum/1, lists:zipwith(fun ets:match_spec_run/2, " +
		"lists:zipwith(fun proplists:get_all_values/2, " + perType("count") + ", " +
		"lists:map(fun lists:append/1, lists:zipwith(fun ets:match_spec_run/2, lists:map(fun exometer:get_values/1, " + erlConst(patterns) + "), " +
		perType("ets:match_spec_compile("+dps+")") + "))), " +
		perType("ets:match_spec_compile("+ints+")") + "))"
}

// prometheusSums is the count of each stanza type in 6.6+ with Prometheus:
// the sum of the numeric values of its counter (EVENT_METRIC) over every
// label set, for the six types at once.
func prometheusSums() string {
	a := func(s string) etf.Atom { return etf.Atom(s) }
	names := make(etf.List, len(stanzaTypes))
	for i, t := range stanzaTypes {
		names[i] = etf.String(t.event + "_" + t.metric)
	}
	nums := matchSpec(tuple(tuple(a("_"), a("$1")), list(tuple(a("is_number"), a("$1"))), list(a("$1"))))
	return "lists:map(fun lists:sum/1, lists:zipwith(fun ets:match_spec_run/2, " +
		"lists:zipwith(fun prometheus_counter:values/2, " + perType("default") + ", " + erlConst(names) + "), " +
		perType("ets:match_spec_compile("+nums+")") + "))"
}

func (f Flavor) stanzasExpr() string {
	a := func(s string) etf.Atom { return etf.Atom(s) }
	exo64 := stanzaCounts(exoSums(func(t stanzaType) etf.Term { return list(a("_"), a(t.event), a("_"), a(t.metric)) }))
	switch {
	case f.atLeast(6, 6, 0):
		return `begin Instr = mongoose_config:get_opt(instrumentation),
        if
            is_map(Instr), is_map_key(prometheus, Instr) -> ` + stanzaCounts(prometheusSums()) + `;
            is_map(Instr), is_map_key(exometer, Instr) -> ` + exo64 + `;
            true -> none
        end end`
	case f.atLeast(6, 4, 0):
		return `case mongoose_config:lookup_opt([instrumentation, exometer]) of
            {ok, _} -> ` + exo64 + `;
            _ -> none
        end`
	case f.atLeast(6, 3, 0):
		return stanzaCounts(exoSums(func(t stanzaType) etf.Term { return list(a("_"), a(t.c2s), a(t.metric)) }))
	}
	return stanzaCounts(exoSums(func(t stanzaType) etf.Term { return list(a("_"), a(t.name)) }))
}

// GatherSource returns the Erlang source that gathers every metric from a
// node of flavor f in one evaluation (the benchmark compiles it on the node
// as its in-node baseline). It expects the variable FieldTimeout (ms). It
// answers a map from field name to {ok, V} | {error, _}, or
// {stale, ProbeAnswer} when the node no longer runs the version f was
// probed for.
func GatherSource(f Flavor) string {
	if f.Server == Ejabberd {
		return ejabberdGatherSource(f)
	}
	return mimGatherSource(f)
}
