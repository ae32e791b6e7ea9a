package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// fixtures compiles fixture directories once.
type fixtures struct {
	root  string // test/fixtures
	build string // temp dir for .beam files

	mu       sync.Mutex
	compiled map[string]string
}

func (f *fixtures) path(dir string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.compiled[dir]; ok {
		return p, nil
	}
	out := filepath.Join(f.build, dir)
	if err := erltest.Compile(filepath.Join(f.root, dir), out); err != nil {
		return "", err
	}
	f.compiled[dir] = out
	return out, nil
}

// schedulersPerNode is the number of schedulers each of n fixture nodes
// runs: the machine's cores shared out, at least one. Three VMs with a
// scheduler per core each, on 2 cores, spend a third of a collection's
// node CPU waking each other's schedulers; a real cluster has a machine
// per node. The -schedulers flag overrides it (0: the VM's default, one per
// core).
func schedulersPerNode(n, override int) int {
	if override >= 0 {
		return override
	}
	s := runtime.NumCPU() / n
	if s < 1 {
		s = 1
	}
	return s
}

// startNodes starts n fixture nodes of generation era with hosts generated
// hosts, in parallel, all with the same cookie, not yet connected to each
// other, each with schedulers schedulers (0: the VM's default).
func (f *fixtures) startNodes(era string, hosts, n, schedulers int) ([]*erltest.Node, error) {
	common, err := f.path("common")
	if err != nil {
		return nil, err
	}
	gen, err := f.path(era)
	if err != nil {
		return nil, err
	}
	cookie := erltest.RandomCookie()
	// +sbwt none: schedulers do not spin waiting for work, so idle nodes
	// leave the cores to the busy ones.
	args := []string{"-fixture_hosts", strconv.Itoa(hosts), "+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none"}
	if schedulers > 0 {
		args = append(args, "+S", strconv.Itoa(schedulers))
	}
	nodes := make([]*erltest.Node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			nodes[i], errs[i] = erltest.Start(erltest.Options{
				Alive:  erltest.UniqueName(fmt.Sprintf("bench%d", i)),
				Cookie: cookie,
				Paths:  []string{common, gen},
				Eval:   `fixture:start(), io:format("fixture ready~n")`,
				Ready:  "fixture ready",
				Args:   args,
			})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, nd := range nodes {
				if nd != nil {
					nd.Stop()
				}
			}
			return nil, fmt.Errorf("start fixture %s node %d with %d hosts: %w", era, i, hosts, err)
		}
	}
	return nodes, nil
}

// join connects every node to the first one (net_adm:ping), so the first
// node's nodes() lists the others, and waits until the mesh is complete.
func join(ctx context.Context, cl *node.Cluster, nodes []*erltest.Node) error {
	if len(nodes) < 2 {
		return nil
	}
	seed := nodes[0].Name
	for _, o := range nodes[1:] {
		t, err := cl.Eval(ctx, seed, "net_adm:ping(Other).", map[string]any{"Other": etf.Atom(o.Name)})
		if err != nil {
			return fmt.Errorf("join %s to %s: %w", o.Name, seed, err)
		}
		if !etf.IsAtom(t, "pong") {
			return fmt.Errorf("join %s to %s: %s", o.Name, seed, etf.FormatLimit(t, 100))
		}
	}
	// Global's mesh forms asynchronously: wait until every node sees all.
	deadline := time.Now().Add(10 * time.Second)
	for _, nd := range nodes {
		for {
			t, err := cl.Eval(ctx, nd.Name, "length(erlang:nodes()).", nil)
			if err != nil {
				return err
			}
			if n, _ := etf.Int(t); n == int64(len(nodes)-1) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %s does not see the %d others", nd.Name, len(nodes)-1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// loadModuleSrc compiles Src (a module's text) with compile:forms on the
// node and loads it: the baseline is the gather's own Erlang modules,
// compiled, run inside the node without the network, erl_eval and the
// encoding.
const loadModuleSrc = `
Forms = fun Scan(S, Line, Acc) ->
    case erl_scan:tokens([], S, Line) of
        {done, {ok, Ts, End}, Rest} ->
            {ok, F} = erl_parse:parse_form(Ts),
            Scan(Rest, End, [F | Acc]);
        {done, {eof, _}, _} -> lists:reverse(Acc);
        {more, _} -> lists:reverse(Acc)
    end
end(unicode:characters_to_list(Src), 1, []),
case compile:forms(Forms, [binary, return_errors]) of
    {ok, Mod, Bin} ->
        code:purge(Mod),
        {module, Mod} = code:load_binary(Mod, atom_to_list(Mod) ++ ".erl", Bin),
        ok;
    {ok, Mod, Bin, _Warnings} ->
        code:purge(Mod),
        {module, Mod} = code:load_binary(Mod, atom_to_list(Mod) ++ ".erl", Bin),
        ok;
    Error -> Error
end.
`

// loadBaseline compiles the gather's modules into each node, and returns
// the gather program of each node's flavor.
func loadBaseline(ctx context.Context, cl *node.Cluster, nodes []*erltest.Node, fieldTimeout time.Duration) ([]metrics.Program, error) {
	var progs []metrics.Program
	for _, nd := range nodes {
		f, err := metrics.Probe(ctx, cl, nd.Name)
		if err != nil {
			return nil, fmt.Errorf("probe %s: %w", nd.Name, err)
		}
		p := metrics.GatherProgram(f, fieldTimeout)
		for _, src := range p.Files {
			t, err := cl.Eval(ctx, nd.Name, loadModuleSrc, map[string]any{"Src": []byte(src)})
			if err != nil {
				return nil, fmt.Errorf("compile the baseline on %s: %w", nd.Name, err)
			}
			if !etf.IsAtom(t, "ok") {
				return nil, fmt.Errorf("compile the baseline on %s: %s", nd.Name, etf.FormatLimit(t, 2000))
			}
		}
		progs = append(progs, p)
	}
	return progs, nil
}

// baselineOnce runs the compiled gather on every node at the same time
// (as a collection does) and returns the slowest node's time, measured
// with timer:tc on the node.
func baselineOnce(ctx context.Context, cl *node.Cluster, nodes []*erltest.Node, progs []metrics.Program) (time.Duration, error) {
	times := make([]time.Duration, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, nd := range nodes {
		wg.Add(1)
		go func(i int, name string) {
			defer wg.Done()
			main := strings.TrimSuffix(strings.TrimSpace(progs[i].Main), ".")
			t, err := cl.Eval(ctx, name, "{T, R} = timer:tc(fun() -> "+main+" end), true = is_map(R), T.", progs[i].Vars)
			if err != nil {
				errs[i] = err
				return
			}
			us, ok := etf.Int(t)
			if !ok {
				errs[i] = fmt.Errorf("baseline on %s answered %s", name, etf.FormatLimit(t, 100))
				return
			}
			times[i] = time.Duration(us) * time.Microsecond
		}(i, nd.Name)
	}
	wg.Wait()
	var max time.Duration
	for i := range nodes {
		if errs[i] != nil {
			return 0, errs[i]
		}
		if times[i] > max {
			max = times[i]
		}
	}
	return max, nil
}

func mkdirTemp(prefix string) (string, error) { return os.MkdirTemp("", prefix) }
