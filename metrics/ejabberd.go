package metrics

import "github.com/mim-metrics/mim-metrics/etf"

// ejabberdGatherSource gathers the same facts from an ejabberd node
// (checked against 23.01): hosts, loaded modules with their db_type as
// backend, listeners mapped to transports and HTTP APIs, cluster nodes,
// version and uptime. A module is ejabberd's own when its beam file lies
// under ejabberd's lib dir; other modules are only counted. Host names never
// leave the node.
var ejabberdGatherSource = gatherPrelude + `
HostsR = Try(fun() -> ejabberd_option:hosts() end),
Hosts = case HostsR of {ok, HL} when is_list(HL) -> HL; _ -> [] end,
LibDir = case code:lib_dir(ejabberd) of D when is_list(D) -> D; _ -> "/nonexistent" end,
Own = fun(M) -> case code:which(M) of P when is_list(P) -> lists:prefix(LibDir, P); _ -> false end end,
ModsR = Try(fun() -> [{H, gen_mod:loaded_modules(H)} || H <- Hosts] end),
PerHost = case ModsR of {ok, PH} -> PH; _ -> [] end,
ListenR = Try(fun() -> ejabberd_option:listen() end),
Listen = case ListenR of {ok, LL} when is_list(LL) -> LL; _ -> [] end,
Handlers = lists:usort([HM || {_, ejabberd_http, LO} <- Listen, is_map(LO), {_, HM} <- maps:get(request_handlers, LO, [])]),
Fail = fun({error, _} = E) -> E; (_) -> ok end,
#{
host_count => case HostsR of {ok, _} -> Field(fun() -> length(Hosts) end); E1 -> E1 end,
host_modules => case ModsR of {error, _} = E2 -> E2; _ -> Field(fun() ->
    [{M, Try(fun() ->
            case gen_mod:get_module_opts(H, M) of
                #{db_type := DB} -> [{backend, DB}];
                _ -> [{none, none}]
            end
         end)} || {H, Ms} <- PerHost, M <- lists:sort(Ms), Own(M)]
  end) end,
custom_module_count => case ModsR of {error, _} = E3 -> E3; _ -> Field(fun() ->
    length(lists:usort([M || {_, Ms} <- PerHost, M <- Ms, not Own(M)]))
  end) end,
uptime_ms => Field(fun() -> element(1, erlang:statistics(wall_clock)) end),
version => Field(fun() -> ejabberd_option:version() end),
component => Field(fun() -> length([P || P <- erlang:processes(), is_pid(P), (catch proc_lib:initial_call(P)) =:= {ejabberd_service, init, 1}]) end),
node_number => Field(fun() -> length(ejabberd_cluster:get_nodes()) end),
http_api => case Fail(ListenR) of ok -> Field(fun() -> [HA || HA <- Handlers, lists:member(HA, ` + erlAtoms(ejabberdAPIs) + `)] end); E4 -> E4 end,
transport_mechanism => case Fail(ListenR) of ok -> Field(fun() ->
    [TH || TH <- Handlers, lists:member(TH, ` + erlAtoms(ejabberdTransports) + `)]
    ++ lists:usort([tcp || {_, ejabberd_c2s, _} <- Listen])
  end); E5 -> E5 end,
tls_option => case Fail(ListenR) of ok -> Field(fun() ->
    lists:usort([case CO of
                     #{tls := true} -> {tls, fast_tls};
                     #{starttls_required := true} -> {starttls_required, fast_tls};
                     #{starttls := true} -> {starttls, fast_tls};
                     _ -> {none, none}
                 end || {_, ejabberd_c2s, CO} <- Listen, is_map(CO)])
  end); E6 -> E6 end,
config_path => Field(fun() -> filename:extension(ejabberd_config:path()) end)
}.
`

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
