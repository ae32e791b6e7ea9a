%% The cluster's own record of its members, as one node keeps it: a member
%% stays recorded while it is down, and leaves the record only when it
%% leaves the cluster (mongooseimctl or ejabberdctl leave_cluster).
%% Evaluated on the node by the sidecar with erl_eval: nothing is loaded
%% (see package node). Used by the member listing (Cluster.Membership) and
%% by the gathers (their db_nodes and cets_nodes fields).
-module(mim_metrics_members).
-export([recorded/0, mnesia_nodes/0, cets_nodes/0]).

%% Every member the node's records name, the node itself included.
-spec recorded() -> [node()].
recorded() ->
    lists:usort([node() | mnesia_nodes() ++ cets_nodes()]).

%% Mnesia's members (MongooseIM, ejabberd): the nodes with a copy of the
%% schema, running or not (running_db_nodes are those running); [] when
%% Mnesia does not run on the node (asked then, Mnesia would read its
%% schema from disk at every call).
-spec mnesia_nodes() -> [node()].
mnesia_nodes() ->
    try mnesia:system_info(is_running) of
        yes ->
            [N || N <- mnesia:system_info(db_nodes), is_atom(N)];
        _ ->
            []
    catch
        _:_ -> []
    end.

%% The nodes CETS's discovery knows (MongooseIM 6.2+ run with CETS): the
%% ones its backend (RDBMS or the node list file) names, available or
%% not; [] when the node does not run CETS's discovery.
-spec cets_nodes() -> [node()].
cets_nodes() ->
    case erlang:whereis(mongoose_cets_discovery) of
        Pid when is_pid(Pid) ->
            try cets_discovery:system_info(Pid) of
                #{nodes := Nodes} when is_list(Nodes) -> [N || N <- Nodes, is_atom(N)];
                _ -> []
            catch
                _:_ -> []
            end;
        _ ->
            []
    end.
