package metrics

import "github.com/mim-metrics/mim-metrics/etf"

// ejabberdGatherSource gathers the same facts from an ejabberd node
// (checked against 23.01): hosts, loaded modules with their db_type as
// backend, listeners mapped to transports and HTTP APIs, cluster nodes,
// version and uptime. A module is ejabberd's own when its beam file lies
// under ejabberd's lib dir; other modules are only counted. Host names never
// leave the node. It is written like mimGatherSource.
func ejabberdGatherSource(f Flavor) string {
	g := &gatherBuilder{}
	// BIFs and configuration reads, in the gathering process.
	g.inline("",
		p("uptime_ms", "element(1, erlang:statistics(wall_clock))"),
		p("builtin_service", "is_pid(erlang:whereis(service_mongoose_system_metrics))"),
		p("host_count", "length("+listOrNil("ejabberd_option:hosts()")+")"),
		p("config_path", "filename:extension(ejabberd_config:path())"),
		p("nodes", "erlang:nodes()"))
	// own is true when module M is ejabberd's own.
	own := "case code:which(M) of MP when is_list(MP) -> lists:prefix(LibDir, MP); _ -> false end"
	g.group("Hosts = case try ejabberd_option:hosts() catch _:_ -> [] end of HL when is_list(HL) -> HL; _ -> [] end,\n"+
		"PerHost = lists:zip(Hosts, lists:map(fun gen_mod:loaded_modules/1, Hosts)),\n"+
		`LibDir = case code:lib_dir(ejabberd) of LD when is_list(LD) -> LD; _ -> "/nonexistent" end`,
		p("custom_module_count", "length(lists:usort([M || {_, Ms} <- PerHost, M <- Ms, not ("+own+")]))"),
		p("host_modules", `[{M, `+g.try(`case gen_mod:get_module_opts(H, M) of
                MO when is_map(MO), is_map_key(db_type, MO) -> [{backend, map_get(db_type, MO)}];
                _ -> [{none, none}]
            end`)+`} || {H, Ms} <- PerHost, M <- lists:sort(Ms), `+own+`]`))
	g.group("",
		alone("version", "ejabberd_option:version()"),
		alone("component", "length([CP || CP <- erlang:processes(), is_pid(CP), (catch proc_lib:initial_call(CP)) =:= {ejabberd_service, init, 1}])"),
		alone("node_number", "length(ejabberd_cluster:get_nodes())"))
	g.inline("Listen = case ejabberd_option:listen() of LL when is_list(LL) -> LL; _ -> [] end,\n"+
		"HMsR = "+g.tryRaw("lists:usort([HM || {_, ejabberd_http, LO} <- Listen, is_map(LO), {_, HM} <- maps:get(request_handlers, LO, [])])"),
		p("http_api", "[HA || HA <- "+g.okOrRaise("HMsR")+", lists:member(HA, "+erlAtoms(ejabberdAPIs)+")]"),
		p("transport_mechanism", "[TH || TH <- "+g.okOrRaise("HMsR")+", lists:member(TH, "+erlAtoms(ejabberdTransports)+")]"+
			" ++ lists:usort([tcp || {_, ejabberd_c2s, _} <- Listen])"),
		p("tls_option", `lists:usort([if
                     is_map_key(tls, CO), map_get(tls, CO) =:= true -> {tls, fast_tls};
                     is_map_key(starttls_required, CO), map_get(starttls_required, CO) =:= true -> {starttls_required, fast_tls};
                     is_map_key(starttls, CO), map_get(starttls, CO) =:= true -> {starttls, fast_tls};
                     true -> {none, none}
                 end || {_, ejabberd_c2s, CO} <- Listen, is_map(CO)])`))
	return guarded("ejabberd", f.Version, g.source())
}

// ejabberdEvents builds the canonical events from an ejabberd gather answer.
func ejabberdEvents(f Flavor, fs fields) []Event {
	var out []Event
	if n, ok := fs.count("host_count"); ok {
		out = append(out, Event{Name: "host_count", Params: map[string]any{"value": n}})
	}
	out = append(out, pairModuleEvents(fs, "host_modules")...)
	if n, ok := fs.count("custom_module_count"); ok {
		out = append(out, Event{Name: "custom_module_count", Params: map[string]any{"value": n}})
	}
	cl := clusterEvent(Flavor{}, fs)
	if v, ok := fs.get("config_path"); ok {
		switch s, _ := etf.Text(v); s {
		case ".yml", ".yaml":
			cl.Params["config_type"] = "yml"
		default:
			cl.Params["config_type"] = "unknown_config_type"
		}
	}
	out = append(out, cl, flagEvent(fs, "http_api"), flagEvent(fs, "transport_mechanism"))
	for _, e := range tlsEvents(fs) {
		if e.Params["mode"] != "none" {
			out = append(out, e)
		}
	}
	return dropEmpty(out)
}
