%% What a node runs. Evaluated on the node by the sidecar with erl_eval:
%% nothing is loaded (see package node).
-module(mim_metrics_probe).
-export([probe/0, still_runs/2]).

%% The server's version, the OTP release, whether MongooseIM's own
%% reporting service runs, and which of the modules and functions the
%% gathering calls the node has (the features; see features/0).
-spec probe() -> #{mongooseim | ejabberd => string() | undefined, otp => string(),
                   builtin_service => boolean(), features => [{atom(), boolean()}]}.
probe() ->
    Apps = application:which_applications(),
    #{mongooseim => app_version(mongooseim, Apps),
      ejabberd => app_version(ejabberd, Apps),
      otp => erlang:system_info(otp_release),
      builtin_service => is_pid(erlang:whereis(service_mongoose_system_metrics)),
      features => [{Name, exported(M, F, A)} || {Name, M, F, A} <- features()]}.

%% Feature name, and the function whose presence it stands for.
-spec features() -> [{atom(), module(), atom(), arity()}].
features() ->
    [{mongoose_config, mongoose_config, get_opt, 1},
     {mongoose_config_path, mongoose_config, get_config_path, 0},
     {ejabberd_config, ejabberd_config, get_global_option, 1},
     {ejabberd_config_path, ejabberd_config, get_config_path, 0},
     {domain_core, mongoose_domain_core, domains_count, 0},
     {mongoose_router, mongoose_router, get_all_domains, 0},
     {mongoose_component, mongoose_component, dirty_get_all_components, 1},
     {ejabberd_router_components, ejabberd_router, dirty_get_all_components, 1},
     {c2s_listener, mongoose_c2s_listener, module_info, 0},
     {module_metrics, mongoose_module_metrics, module_info, 0},
     {cluster_id, mongoose_cluster_id, get_cached_cluster_id, 0},
     {ejabberd_option, ejabberd_option, hosts, 0},
     {cets_discovery, cets_discovery, system_info, 1}].

%% True when the node still runs version Version of App (always true
%% when the version is unknown, "").
-spec still_runs(atom(), string()) -> boolean().
still_runs(_App, "") ->
    true;
still_runs(App, Version) ->
    case application:get_key(App, vsn) of
        {ok, Version} -> true;
        {ok, Bin} when is_binary(Bin) -> Bin =:= unicode:characters_to_binary(Version);
        _ -> false
    end.

%% The version of App among the running applications Apps.
-spec app_version(atom(), [{atom(), string(), string()}]) -> string() | undefined.
app_version(App, Apps) ->
    case lists:keyfind(App, 1, Apps) of
        {_, _, Version} -> Version;
        false -> undefined
    end.

%% Whether module M, loaded if need be, exports F/A.
-spec exported(module(), atom(), arity()) -> boolean().
exported(M, F, A) ->
    case code:ensure_loaded(M) of
        {module, M} -> erlang:function_exported(M, F, A);
        _ -> false
    end.
