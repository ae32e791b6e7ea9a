// Package erltest starts real Erlang nodes on loopback for tests: a private
// EPMD per test binary, erl nodes with short or long names, fixtures
// compiled from .erl sources with erlc, and ejabberd from Debian.
//
// Every process it starts is stopped by Cleanup (call it from TestMain) or
// by the node's Stop.
package erltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// Available reports whether erl, erlc and epmd are on PATH.
func Available() bool {
	for _, c := range []string{"erl", "erlc", "epmd"} {
		if _, err := exec.LookPath(c); err != nil {
			return false
		}
	}
	return true
}

var (
	epmdMu   sync.Mutex
	epmdCmd  *exec.Cmd
	epmdPort int
	started  []*Node
)

// StartEPMD starts a private EPMD on a free loopback port and points this
// process (ERL_EPMD_PORT) and every node started later at it, so that test
// binaries running in parallel do not see each other's nodes. It is
// idempotent.
func StartEPMD() (int, error) {
	epmdMu.Lock()
	defer epmdMu.Unlock()
	if epmdCmd != nil {
		return epmdPort, nil
	}
	for attempt := 0; attempt < 5; attempt++ {
		port, err := testkit.FreePort()
		if err != nil {
			return 0, err
		}
		// EPMD answers on ::1 too where the machine has it, for the
		// nodes of inet6 distribution (Options.Proto).
		addrs := "127.0.0.1"
		if HasIPv6Loopback() {
			addrs += ",::1"
		}
		cmd := exec.Command("epmd", "-port", strconv.Itoa(port), "-address", addrs)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // die with the test binary
		if err := cmd.Start(); err != nil {
			return 0, fmt.Errorf("start epmd: %w", err)
		}
		// EPMD answers NAMES_REQ with its own port: that tells our EPMD
		// from another process that took the free port meanwhile.
		if waitPort(port, 15*time.Second) && epmdAnswers(port) {
			epmdCmd, epmdPort = cmd, port
			os.Setenv("ERL_EPMD_PORT", strconv.Itoa(port))
			os.Setenv("ERL_EPMD_ADDRESS", "127.0.0.1")
			return port, nil
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	return 0, errors.New("epmd did not start")
}

// EPMDNames returns the private EPMD's registrations as `epmd -names`
// lists them ("name foo at port 4711", one a line). It asks EPMD itself
// (NAMES_REQ) rather than running epmd: the start and stop of every node
// poll it.
func EPMDNames() (string, error) {
	names, _, err := epmdNamesAt(epmdPort)
	return names, err
}

// epmdAnswers reports whether the EPMD of port answers as such.
func epmdAnswers(port int) bool {
	_, p, err := epmdNamesAt(port)
	return err == nil && p == port
}

// epmdNamesAt asks the EPMD on port for its names and its own port.
func epmdNamesAt(port int) (string, int, error) {
	names, own, err := epmdNamesReq(port)
	if err != nil {
		return "", 0, fmt.Errorf("epmd names: %w", err)
	}
	return names, own, nil
}

func epmdNamesReq(port int) (string, int, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return "", 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte{0, 1, 110}); err != nil {
		return "", 0, err
	}
	b, err := io.ReadAll(io.LimitReader(c, 1<<20))
	if err != nil || len(b) < 4 {
		return "", 0, fmt.Errorf("short answer (%d bytes): %v", len(b), err)
	}
	own := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	return string(b[4:]), own, nil // after EPMD's own port
}

// HasIPv6Loopback reports whether this machine can listen on ::1.
func HasIPv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Cleanup stops every node started by this package and the private EPMD.
func Cleanup() {
	epmdMu.Lock()
	nodes := started
	started = nil
	epmdMu.Unlock()
	for _, n := range nodes {
		n.Stop()
	}
	stopControllers()
	removeCompiledFixtures()
	epmdMu.Lock()
	defer epmdMu.Unlock()
	if epmdCmd != nil {
		_ = syscall.Kill(-epmdCmd.Process.Pid, syscall.SIGKILL)
		_ = epmdCmd.Wait()
		epmdCmd = nil
	}
}

func waitPort(port int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// UniqueName returns prefix plus a random suffix, usable as the part of a
// node name before @.
func UniqueName(prefix string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// RandomCookie returns a fresh cookie.
func RandomCookie() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// Options says how to start a node.
type Options struct {
	Alive  string   // the part before @; UniqueName("n") when empty
	Long   bool     // -name alive@127.0.0.1 instead of -sname alive@localhost
	Host   string   // the host part instead of localhost or 127.0.0.1 (the node listens on loopback, on Host when it is a loopback address)
	Cookie string   // RandomCookie() when empty
	Paths  []string // code paths (-pa)
	Eval   string   // Erlang expressions run at start, e.g. "fixture:start()"
	Args   []string // more arguments for erl
	// Ready, when set, is text the node prints when its Eval has finished;
	// Start waits for it too.
	Ready string
	// Proto is the node's -proto_dist (inet_tcp when empty); with inet6_tcp
	// or inet6_tls the node listens on ::1. TLS nodes need their
	// -ssl_dist_optfile in Args; Eval cannot reach them (its controller
	// speaks plain TCP).
	Proto string
	// DistPort, when not 0, starts the node without EPMD: it listens on
	// that port (-erl_epmd_port), and Start waits for the port to answer.
	DistPort int
}

// Node is a running erl node.
type Node struct {
	Name   string
	Cookie string
	opts   Options

	mu     sync.Mutex
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan struct{}
}

// The limits of a node's start and of EPMD noticing its end: generous,
// for a machine that other tests keep busy (an erl VM that starts in
// 0.3 s on an idle machine took over 15 s under a load of 20), and bounded.
const (
	startTimeout  = 60 * time.Second
	forgetTimeout = 15 * time.Second
)

// Start starts an erl node and waits until it is registered in EPMD.
func Start(opts Options) (*Node, error) {
	if _, err := StartEPMD(); err != nil {
		return nil, err
	}
	if opts.Alive == "" {
		opts.Alive = UniqueName("n")
	}
	if opts.Cookie == "" {
		opts.Cookie = RandomCookie()
	}
	host := "localhost"
	if opts.Long {
		host = "127.0.0.1"
	}
	if opts.Host != "" {
		host = opts.Host
	}
	n := &Node{Name: opts.Alive + "@" + host, Cookie: opts.Cookie, opts: opts}
	if err := n.start(); err != nil {
		return nil, err
	}
	epmdMu.Lock()
	started = append(started, n)
	epmdMu.Unlock()
	return n, nil
}

func (n *Node) start() error {
	nameFlag := "-sname"
	if n.opts.Long {
		nameFlag = "-name"
	}
	iface := erlAddress(n.listenIP())
	args := []string{nameFlag, n.Name, "-setcookie", n.Cookie, "-noinput", "-start_epmd", "false",
		"-kernel", "inet_dist_use_interface", iface}
	if n.opts.Proto != "" {
		args = append(args, "-proto_dist", n.opts.Proto)
	}
	if n.opts.DistPort != 0 {
		args = append(args, "-erl_epmd_port", strconv.Itoa(n.opts.DistPort))
	}
	for _, p := range n.opts.Paths {
		args = append(args, "-pa", p)
	}
	if n.opts.Eval != "" {
		args = append(args, "-eval", n.opts.Eval)
	}
	args = append(args, n.opts.Args...)
	cmd := exec.Command("erl", args...)
	cmd.Env = append(os.Environ(), "ERL_EPMD_PORT="+strconv.Itoa(epmdPort), "ERL_EPMD_ADDRESS=127.0.0.1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // die with the test binary
	out := &bytes.Buffer{}
	cmd.Stdout = &syncWriter{w: out}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start erl %s: %w", n.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	n.mu.Lock()
	n.cmd, n.out, n.exited = cmd, out, exited
	n.mu.Unlock()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("erl %s exited at start: %s", n.Name, n.Output())
		default:
		}
		if n.listening() && (n.opts.Ready == "" || strings.Contains(n.Output(), n.opts.Ready)) {
			return nil
		}
		time.Sleep(30 * time.Millisecond)
	}
	n.Stop()
	return fmt.Errorf("erl %s did not start (register in EPMD and print %q) within %v: %s", n.Name, n.opts.Ready, startTimeout, n.Output())
}

// listening reports whether the node is registered in EPMD, or, without
// EPMD, whether its distribution port answers.
func (n *Node) listening() bool {
	if n.opts.DistPort == 0 {
		names, err := EPMDNames()
		return err == nil && strings.Contains(names, "name "+n.opts.Alive+" at port")
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(n.listenIP().String(), strconv.Itoa(n.opts.DistPort)), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// listenIP is the loopback address the node listens on: its Host when
// that is one, else 127.0.0.1, or ::1 for inet6 distribution.
func (n *Node) listenIP() net.IP {
	if ip := net.ParseIP(n.opts.Host); ip != nil && ip.IsLoopback() {
		return ip
	}
	if strings.HasPrefix(n.opts.Proto, "inet6") {
		return net.IPv6loopback
	}
	return net.IPv4(127, 0, 0, 1)
}

// erlAddress writes ip as an Erlang address tuple.
func erlAddress(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return fmt.Sprintf("{%d,%d,%d,%d}", v4[0], v4[1], v4[2], v4[3])
	}
	parts := make([]string, 8)
	for i := range parts {
		parts[i] = strconv.Itoa(int(ip[2*i])<<8 | int(ip[2*i+1]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Output returns what the node printed so far.
func (n *Node) Output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.out == nil {
		return ""
	}
	w := n.cmd.Stdout.(*syncWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return n.out.String()
}

// Kill kills the node with SIGKILL, as a crash would, and waits for it.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
	if n.opts.DistPort != 0 {
		return // it was never in EPMD
	}
	// Wait until EPMD has noticed: a restart must not race the old entry.
	deadline := time.Now().Add(forgetTimeout)
	for time.Now().Before(deadline) {
		if names, err := EPMDNames(); err == nil && !strings.Contains(names, "name "+n.opts.Alive+" at port") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the node (SIGKILL: test nodes hold no state worth a clean
// shutdown) and waits for it.
func (n *Node) Stop() { n.Kill() }

// Restart kills the node and starts it again under the same name.
func (n *Node) Restart() error {
	n.Kill()
	return n.start()
}

// Eval runs Erlang expressions on the node and returns their value
// printed with ~p. It is for test set-up and checks only (the code under
// test talks through package node): one hidden control node per test
// binary and name kind runs every Eval (see controller), so an Eval costs
// a round trip, not the start of an erl VM. Without a deadline in ctx, the
// call is bounded by 10 s.
func (n *Node) Eval(ctx context.Context, expr string) (string, error) {
	_, host, _ := strings.Cut(n.Name, "@")
	c, err := control(ctx, strings.Contains(host, "."))
	if err != nil {
		return "", err
	}
	return c.eval(ctx, n.Name, n.Cookie, expr)
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w.Len() > 1<<20 { // keep at most 1 MiB of node output
		return len(p), nil
	}
	return s.w.Write(p)
}

// Compile compiles every .erl file in srcDir into outDir with erlc and
// copies .app and .etf files along, so a fixture directory becomes a code path.
// A directory with a file named inherits states only what differs from
// another: its first line names a sibling directory, compiled first, whose
// modules and .app files srcDir's own replace; each further line
// "without M" drops module M of the sibling (a generation that no longer
// has it).
func Compile(srcDir, outDir string) error { return compileDepth(srcDir, outDir, 0) }

// maxInherits bounds a chain of inherits files (a cycle fails).
const maxInherits = 32

func compileDepth(srcDir, outDir string, depth int) error {
	if depth > maxInherits {
		return fmt.Errorf("%s: more than %d inherits in a row (a cycle?)", srcDir, maxInherits)
	}
	if b, err := os.ReadFile(filepath.Join(srcDir, "inherits")); err == nil {
		if err := compileInherited(srcDir, outDir, string(b), depth); err != nil {
			return err
		}
	}
	srcs, err := filepath.Glob(filepath.Join(srcDir, "*.erl"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	if len(srcs) > 0 {
		args := append([]string{"-o", outDir}, srcs...)
		if out, err := exec.Command("erlc", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("erlc %s: %v: %s", srcDir, err, out)
		}
	}
	// The data a fixture reads: mongooseim.app, and mim-6.2.1's answers.etf.
	apps, _ := filepath.Glob(filepath.Join(srcDir, "*.app"))
	etfs, _ := filepath.Glob(filepath.Join(srcDir, "*.etf"))
	for _, a := range append(apps, etfs...) {
		b, err := os.ReadFile(a)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(outDir, filepath.Base(a)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compileInherited compiles the sibling named by srcDir's inherits file
// (text) into outDir and drops the modules its "without" lines name.
func compileInherited(srcDir, outDir, text string, depth int) error {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	parent := strings.TrimSpace(lines[0])
	if parent == "" || strings.ContainsAny(parent, "/\\") {
		return fmt.Errorf("%s/inherits: want the name of a sibling directory on the first line, got %q", srcDir, parent)
	}
	if err := compileDepth(filepath.Join(filepath.Dir(srcDir), parent), outDir, depth+1); err != nil {
		return fmt.Errorf("%s inherits %s: %w", srcDir, parent, err)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 || f[0] != "without" || strings.ContainsAny(f[1], "/\\.") {
			return fmt.Errorf("%s/inherits: want \"without <module>\" after the first line, got %q", srcDir, l)
		}
		if err := os.Remove(filepath.Join(outDir, f[1]+".beam")); err != nil {
			return fmt.Errorf("%s/inherits: without %s: %s has no such module", srcDir, f[1], parent)
		}
	}
	return nil
}
