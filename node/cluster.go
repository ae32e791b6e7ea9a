// Package node joins an Erlang cluster as a hidden node and calls its
// members over RPC.
//
// The sidecar never registers in EPMD, never starts an EPMD server, listens
// on 127.0.0.1 only, and clears DFLAG_PUBLISHED in its handshake, so the
// cluster's nodes() never lists it. Every answer comes back as
// term_to_binary(Result) and is decoded by package etf, never by ergo.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ergo-services/ergo"
	ergoetf "github.com/ergo-services/ergo/etf"
	"github.com/ergo-services/ergo/gen"
	ergonode "github.com/ergo-services/ergo/node"
	"github.com/ergo-services/ergo/proto/dist"

	"github.com/mim-metrics/mim-metrics/etf"
)

// Options configures a Cluster.
type Options struct {
	// Seeds are the nodes to start from, as name@host.
	Seeds []string
	// Cookie is the cluster's Erlang cookie. It never appears in a log line
	// or an error.
	Cookie string
	// Name is this node's own name; empty picks mim_metrics_<random>@<host>
	// with a host of the same name type (short or long) as the seeds'.
	Name string
	// Discover adds the members each seed is connected to (nodes() on the
	// seed). With false, only the seeds are members.
	Discover bool
	// Dist says how the nodes speak distribution: TCP or TLS, IPv4 or
	// IPv6, through EPMD or on a known port. The zero value is Erlang's
	// default (inet_tcp, EPMD).
	Dist Dist
}

// Cluster is a running hidden node and the cluster it talks to.
type Cluster struct {
	opts   Options // without the cookie
	cookie secret
	name   string
	node   ergonode.Node
	proc   gen.Process
	caller *caller

	dialMu  sync.Mutex
	dialing map[string]*sync.Mutex // one connection attempt per peer at a time

	formsMu  sync.Mutex
	forms    map[formKey][]byte // prepared programs, by OTP release and text
	releases map[string]string  // per node, its release (see formKey), learned on this connection

	statsMu sync.Mutex
	stats   map[string]Stats // per peer

	closed    chan struct{} // closed by Close: calls in flight fail at once
	closeOnce sync.Once
}

// Stats counts the round trips to one node and the answer bytes received.
type Stats struct {
	Calls         int64
	BytesReceived int64
}

// formKey names a prepared program: the release of the node that
// prepared it (its OTP release and erl_eval module: the prepared runner
// holds erl_eval funs, and the abstract format may change between
// releases) and the program's text.
type formKey struct {
	release string
	text    string
}

// maxCachedSources bounds the prepared-program cache; the collector uses
// a handful of programs.
const maxCachedSources = 64

// Start starts the hidden node. It does not contact any seed yet: Members,
// Call and Eval connect on demand, and reconnect after a peer restarts.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if len(opts.Seeds) == 0 {
		return nil, errors.New("no seed node given: name at least one node with --node name@host")
	}
	long := false
	for i, s := range opts.Seeds {
		n, err := ParseName(s)
		if err != nil {
			return nil, err
		}
		if i > 0 && n.Long != long {
			return nil, fmt.Errorf("seed nodes %s and %s mix short and long names: Erlang clusters use one kind", opts.Seeds[0], s)
		}
		long = n.Long
	}
	if opts.Cookie == "" {
		return nil, errors.New("empty cookie: give the cluster's cookie with --cookie-file or MIM_METRICS_COOKIE")
	}
	if err := opts.Dist.check(); err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = defaultName(long)
	} else if _, err := ParseName(name); err != nil {
		return nil, fmt.Errorf("own node name: %w", err)
	}
	quietErgo()

	n, err := ergo.StartNodeWithContext(ctx, name, opts.Cookie, ergoOptions(opts.Dist))
	if err != nil {
		return nil, fmt.Errorf("start hidden node %s: %w", name, err)
	}
	cookie := newSecret(opts.Cookie)
	opts.Cookie = ""
	c := &Cluster{opts: opts, cookie: cookie, name: name, node: n, caller: newCaller(), dialing: map[string]*sync.Mutex{},
		forms: map[formKey][]byte{}, releases: map[string]string{}, stats: map[string]Stats{}, closed: make(chan struct{})}
	p, err := n.Spawn("", gen.ProcessOptions{MailboxSize: 4096}, c.caller)
	if err != nil {
		n.Stop()
		return nil, fmt.Errorf("start rpc process: %w", err)
	}
	c.proc = p
	return c, nil
}

// ergoOptions are the ergo node options of a hidden, dial-only node with
// ergo's anonymous usage metrics off, speaking distribution as d says.
func ergoOptions(d Dist) ergonode.Options {
	return ergonode.Options{
		Handshake: hiddenHandshake{dist.CreateHandshake(dist.HandshakeOptions{Version: dist.HandshakeVersion6})},
		Registrar: newDialOnlyRegistrar(d),
		TLS:       d.TLS, // ergo dials Erlang nodes with it; the host name of each node is the name checked
		Listeners: []ergonode.Listener{{Hostname: "127.0.0.1", ListenBegin: 15000, ListenEnd: 65000}},
		System:    ergonode.System{DisableAnonMetrics: true},
	}
}

var quietOnce sync.Once

// quietErgo turns off ergo's warnings, which it prints with the standard
// log package; our own log lines say what went wrong.
func quietErgo() {
	quietOnce.Do(func() {
		if f := flag.Lookup("ergo.warning"); f != nil {
			_ = f.Value.Set("false")
		}
	})
}

func defaultName(long bool) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	host := "localhost"
	if long {
		host = "127.0.0.1"
	}
	return "mim_metrics_" + hex.EncodeToString(b[:]) + "@" + host
}

// Name returns this node's own name.
func (c *Cluster) Name() string { return c.name }

// Close stops the hidden node; calls in flight fail.
func (c *Cluster) Close() {
	c.closeOnce.Do(func() { close(c.closed) })
	c.node.Stop()
	c.node.Wait()
}

// errClosed fails the calls in flight when the cluster is closed.
var errClosed = errors.New("the hidden node was stopped")

// Call runs Module:Function(Args...) on the node and returns its result,
// decoded by package etf. Arguments are Go values: etf.Atom, etf.Binary,
// string (sent as a charlist), integers, bool, etf.Tuple and etf.List.
// The context's deadline bounds the call.
func (c *Cluster) Call(ctx context.Context, node, module, function string, args ...any) (etf.Term, error) {
	a := make(ergoetf.List, len(args))
	for i, v := range args {
		t, err := toErgo(v)
		if err != nil {
			return nil, fmt.Errorf("node %s: %s:%s: argument %d: %w", node, module, function, i+1, err)
		}
		a[i] = t
	}
	bs := bindings(ergoetf.Atom("A"), a, ergoetf.Atom("F"), ergoetf.Atom(function), ergoetf.Atom("M"), ergoetf.Atom(module))
	return c.eval(ctx, node, module, function, nil, applySrc, bs)
}

// applySrc is what Call evaluates.
const applySrc = "erlang:apply(M, F, A)."

// Eval evaluates Erlang source (expressions ending with a full stop) on the
// node and returns the value of the last expression. The bindings are
// visible to the source as variables; their values are converted as for
// Call. Nothing is loaded into the node: erl_eval interprets the source.
func (c *Cluster) Eval(ctx context.Context, node, src string, vars map[string]any) (etf.Term, error) {
	return c.EvalProgram(ctx, node, nil, src, vars)
}

// EvalProgram is Eval with the functions of Erlang modules: src may call
// them (m:f(...), or f(...) inside a module), and they may call each
// other. files are the modules' source text. Nothing is loaded into the
// node: erl_eval interprets the functions (see erl/run.exprs).
//
// The first evaluation of a program on a node sends its text, and brings
// back the parsed program, which later evaluations on any node of the same
// OTP release send instead.
func (c *Cluster) EvalProgram(ctx context.Context, node string, files []string, src string, vars map[string]any) (etf.Term, error) {
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	bs := ergoetf.List{}
	for _, k := range names {
		t, err := toErgo(vars[k])
		if err != nil {
			return nil, fmt.Errorf("node %s: eval: variable %s: %w", node, k, err)
		}
		bs = append(bs, ergoetf.Tuple{ergoetf.Atom(k), t})
	}
	return c.eval(ctx, node, "erl_eval", "exprs", files, src, bs)
}

// eval evaluates the program (files and src) with the bindings bs (an
// orddict) on node: with runProgram when it was prepared on a node of the
// same OTP release, else with prepareProgram. mod and fun name the call in
// errors.
func (c *Cluster) eval(ctx context.Context, node, mod, fun string, files []string, src string, bs ergoetf.List) (etf.Term, error) {
	if err := c.connect(ctx, node); err != nil {
		return nil, err // it names the node and says why
	}
	text := src
	for _, f := range files {
		text += "\x00" + f
	}
	c.formsMu.Lock()
	release, known := c.releases[node]
	prepared, cached := c.forms[formKey{release, text}]
	c.formsMu.Unlock()
	if known && cached {
		ans, err := c.evalForm(ctx, node, mod, fun, runProgram, bindings(ergoetf.Atom("Bs"), bs, ergoetf.Atom("P"), prepared))
		if err != nil {
			return nil, err
		}
		return decodeAnswer(node, mod, fun, ans)
	}
	fs := make(ergoetf.List, len(files))
	for i, f := range files {
		fs[i] = []byte(f)
	}
	ans, err := c.evalForm(ctx, node, mod, fun, prepareProgram,
		bindings(ergoetf.Atom("Bs"), bs, ergoetf.Atom("Files"), fs, ergoetf.Atom("Main"), []byte(src),
			ergoetf.Atom("Prep"), prepareExprs, ergoetf.Atom("Run"), []byte(runExprs)))
	if err != nil {
		return nil, err
	}
	t, err := decodeTerm(node, mod, fun, ans)
	if err != nil {
		return nil, err
	}
	// {prepared, Release, Answer, Program}, or {error, Class, Reason} when
	// the program does not parse.
	if p, ok := t.(etf.Tuple); ok && len(p) == 4 && etf.IsAtom(p[0], "prepared") {
		release, okR := etf.Text(p[1])
		answer, okA := p[2].(etf.Binary)
		program, okP := p[3].(etf.Binary)
		if okR && okA && okP {
			c.formsMu.Lock()
			c.releases[node] = release
			if len(c.forms) < maxCachedSources {
				c.forms[formKey{release, text}] = []byte(program)
			}
			c.formsMu.Unlock()
			return decodeAnswer(node, mod, fun, []byte(answer))
		}
	}
	return answerOf(node, mod, fun, t)
}

// Stats returns the round trips to node and the bytes its answers held.
func (c *Cluster) Stats(node string) Stats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	return c.stats[node]
}

func (c *Cluster) count(node string, bytes int) {
	c.statsMu.Lock()
	s := c.stats[node]
	s.Calls++
	s.BytesReceived += int64(bytes)
	c.stats[node] = s
	c.statsMu.Unlock()
}

// evalForm sends erl_eval:expr(Form, Bindings, none, none, value) to the
// node's rex and returns its answer, a term_to_binary binary. mod and fun
// name the call in errors.
func (c *Cluster) evalForm(ctx context.Context, node, mod, fun string, form ergoetf.Term, b ergoetf.List) ([]byte, error) {
	args := ergoetf.List{form, b, ergoetf.Atom("none"), ergoetf.Atom("none"), ergoetf.Atom("value")}
	ref, ch, err := c.caller.start(c.proc, node, "erl_eval", "expr", args)
	if err != nil {
		return nil, &unreachableError{Node: node, Reason: err.Error()}
	}
	select {
	case r := <-ch:
		if r.isDown {
			return nil, &unreachableError{Node: node, Reason: "connection lost (the node went down or the network failed)"}
		}
		b, ok := r.reply.([]byte)
		if !ok {
			return nil, &badAnswerError{node: node, what: "expected a binary, got " + describeReply(r.reply)}
		}
		c.count(node, len(b))
		return b, nil
	case <-ctx.Done():
		c.caller.cancel(ref)
		return nil, &timeoutError{node: node, ctx: ctx.Err()}
	case <-c.closed:
		return nil, &unreachableError{Node: node, Reason: errClosed.Error()}
	}
}

// decodeTerm decodes a term_to_binary answer. A value nested too deep to
// decode safely comes back as etf.Elided{} rather than sinking the whole
// answer: callers drop what they cannot read.
func decodeTerm(node, mod, fun string, raw []byte) (etf.Term, error) {
	t, err := etf.DecodeLimits(raw, etf.Limits{ElideDeep: true})
	if err != nil {
		return nil, &badAnswerError{node: node, what: err.Error()}
	}
	return t, nil
}

// decodeAnswer turns the runner's answer (see erl/run.exprs) into a result
// or an error.
func decodeAnswer(node, mod, fun string, raw []byte) (etf.Term, error) {
	t, err := decodeTerm(node, mod, fun, raw)
	if err != nil {
		return nil, err
	}
	return answerOf(node, mod, fun, t)
}

// answerOf interprets {ok, Value} and {error, Class, Reason}.
func answerOf(node, mod, fun string, t etf.Term) (etf.Term, error) {
	tup, ok := t.(etf.Tuple)
	switch {
	case ok && len(tup) == 2 && etf.IsAtom(tup[0], "ok"):
		return tup[1], nil
	case ok && len(tup) == 3 && etf.IsAtom(tup[0], "error"):
		class, _ := etf.Text(tup[1])
		return nil, &BadRPCError{Node: node, Module: mod, Function: fun, Class: class, Reason: etf.FormatLimit(tup[2], 2000)}
	}
	return nil, &badAnswerError{node: node, what: "unexpected answer " + etf.FormatLimit(t, 200)}
}

// describeReply names what rex answered instead of a binary: a badrpc
// from rex itself (the form failed outside its own try), or anything else.
func describeReply(reply ergoetf.Term) string {
	if t, ok := reply.(ergoetf.Tuple); ok && len(t) == 2 && t[0] == ergoetf.Atom("badrpc") {
		return fmt.Sprintf("badrpc %.200v", t[1])
	}
	return fmt.Sprintf("%T", reply)
}

// connect makes sure there is a distribution connection to node, bounded
// by ctx. ergo itself connects on demand, but without a deadline and
// without saying why it failed; on failure we diagnose the cause.
func (c *Cluster) connect(ctx context.Context, node string) error {
	if _, err := ParseName(node); err != nil {
		return err
	}
	if c.isConnected(node) {
		return nil
	}
	// Concurrent handshakes with one peer make it reject all but one, so
	// callers queue behind a single attempt.
	c.dialMu.Lock()
	m, ok := c.dialing[node]
	if !ok {
		m = &sync.Mutex{}
		c.dialing[node] = m
	}
	c.dialMu.Unlock()
	done := make(chan error, 1)
	go func() {
		m.Lock()
		defer m.Unlock()
		if c.isConnected(node) {
			done <- nil
			return
		}
		// A new connection may be to a node restarted on another release.
		c.formsMu.Lock()
		delete(c.releases, node)
		c.formsMu.Unlock()
		done <- c.node.Connect(node)
	}()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
		return diagnose(ctx, node, c.cookie, c.name, c.opts.Dist)
	case <-ctx.Done():
		return &timeoutError{node: node, ctx: ctx.Err()}
	case <-c.closed:
		return &unreachableError{Node: node, Reason: errClosed.Error()}
	}
}

// isConnected reports whether ergo holds a live connection to node.
func (c *Cluster) isConnected(node string) bool {
	// NetworkStats looks the connection up; Nodes would list them all.
	_, err := c.node.NetworkStats(node)
	return err == nil
}

// Members returns the cluster's members, sorted (see Membership).
func (c *Cluster) Members(ctx context.Context) ([]string, error) {
	m, err := c.Membership(ctx)
	return m.Members, err
}

// Seeds returns the seed nodes.
func (c *Cluster) Seeds() []string { return append([]string(nil), c.opts.Seeds...) }

// Discovers reports whether the members are discovered from the seeds
// (Options.Discover).
func (c *Cluster) Discovers() bool { return c.opts.Discover }

// Ping measures one round trip to node: a call of erlang:node().
func (c *Cluster) Ping(ctx context.Context, node string) (time.Duration, error) {
	start := time.Now()
	_, err := c.Call(ctx, node, "erlang", "node")
	return time.Since(start), err
}

// toErgo converts an argument to the type ergo encodes as the intended
// Erlang term.
func toErgo(v any) (ergoetf.Term, error) {
	switch t := v.(type) {
	case etf.Atom:
		return ergoetf.Atom(t), nil
	case etf.Binary:
		return []byte(t), nil
	case []byte:
		return t, nil
	case string:
		return ergoetf.Charlist(t), nil
	case int:
		return t, nil
	case int64:
		return t, nil
	case bool:
		return t, nil
	case etf.String:
		if len(t) <= 65535 {
			return string(t), nil // ergo sends a Go string as STRING_EXT, byte for byte
		}
		out := make(ergoetf.List, len(t))
		for i := 0; i < len(t); i++ {
			out[i] = int(t[i])
		}
		return out, nil
	case float64:
		return t, nil
	case etf.Tuple:
		out := make(ergoetf.Tuple, len(t))
		for i, e := range t {
			c, err := toErgo(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case etf.List:
		out := make(ergoetf.List, len(t))
		for i, e := range t {
			c, err := toErgo(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case etf.Map:
		out := make(ergoetf.Map, len(t))
		for _, p := range t {
			k, err := toErgo(p.Key)
			if err != nil {
				return nil, err
			}
			v, err := toErgo(p.Value)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case []string:
		out := make(ergoetf.List, len(t))
		for i, e := range t {
			out[i] = []byte(e)
		}
		return out, nil
	}
	return nil, fmt.Errorf("cannot send a %T to Erlang", v)
}

// ParsedName is a node name split into its parts.
type ParsedName struct {
	Alive string // the part before @
	Host  string
	Long  bool // the host is a fully qualified name or an IP address
}

// ParseName checks a node name of the form name@host.
func ParseName(s string) (ParsedName, error) {
	alive, host, ok := strings.Cut(s, "@")
	if !ok || alive == "" || host == "" || strings.Contains(host, "@") {
		return ParsedName{}, fmt.Errorf("bad node name %q: expected name@host, e.g. mongooseim@localhost", s)
	}
	for _, r := range alive {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return ParsedName{}, fmt.Errorf("bad node name %q: the part before @ may hold only letters, digits, '_' and '-'", s)
		}
	}
	// A host with a dot (a full name, an IPv4 address) or a colon (an
	// IPv6 address) is a long name, as in Erlang.
	return ParsedName{Alive: alive, Host: host, Long: strings.ContainsAny(host, ".:")}, nil
}
