package faults_test

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/erltest"
	"github.com/mim-metrics/mim-metrics/test/fakega"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// proc is a running mim-metrics binary. While it runs, a monitor reads
// its sockets every few milliseconds and records every remote endpoint
// that is not on the loopback interface.
type proc struct {
	cmd    *exec.Cmd
	stdout testkit.SyncBuffer
	stderr testkit.SyncBuffer
	exited chan struct{}

	mu       sync.Mutex
	code     int
	exitedAt time.Time
	foreign  map[string]bool
	polls    int
}

// procEnv is a clean environment that reaches the private EPMD.
func procEnv(t testing.TB, extra ...string) []string {
	return append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"ERL_EPMD_PORT=" + os.Getenv("ERL_EPMD_PORT"), "ERL_EPMD_ADDRESS=127.0.0.1"}, extra...)
}

// startBin starts the binary. The test fails if it is still running when
// the test ends (it is killed then) or if it ever had a socket to a
// non-loopback address.
func startBin(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), exited: make(chan struct{}), foreign: map[string]bool{}}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.mu.Lock()
		p.exitedAt = time.Now()
		p.code = p.cmd.ProcessState.ExitCode()
		if err != nil && p.code == 0 {
			p.code = -1
		}
		p.mu.Unlock()
		close(p.exited)
	}()
	go p.monitor()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
			t.Errorf("mim-metrics %s was still running at the end of the test", strings.Join(args, " "))
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		for f := range p.foreign {
			t.Errorf("mim-metrics had a socket to a non-loopback address: %s", f)
		}
	})
	return p
}

// monitor polls the process's sockets until it exits.
func (p *proc) monitor() {
	pid := p.cmd.Process.Pid
	tick := time.NewTicker(3 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			return
		case <-tick.C:
		}
		fs := foreignEndpoints(pid)
		p.mu.Lock()
		p.polls++
		for _, f := range fs {
			p.foreign[f] = true
		}
		p.mu.Unlock()
	}
}

// signal sends sig and returns when the process exited, or after d.
func (p *proc) signal(sig syscall.Signal, d time.Duration) (took time.Duration, exited bool) {
	sent := time.Now()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.exitedAt.Sub(sent), true
	case <-time.After(d):
		return time.Since(sent), false
	}
}

func (p *proc) exitCode() int {
	<-p.exited
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

// waitOutput waits until the process printed s on stdout.
func (p *proc) waitOutput(t testing.TB, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.stdout.String(), s) {
		select {
		case <-p.exited:
			t.Fatalf("mim-metrics exited before printing %q:\n%s\n%s", s, p.stdout.String(), p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mim-metrics did not print %q within %v:\n%s", s, d, p.stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fds counts the process's open file descriptors.
func (p *proc) fds() int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	return len(es)
}

// foreignEndpoints lists the remote endpoints of pid's sockets that are
// neither unconnected nor on the loopback interface, as "tcp 1.2.3.4:80".
func foreignEndpoints(pid int) []string {
	inodes := map[string]bool{}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	if len(inodes) == 0 {
		return nil
	}
	var out []string
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, proto))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			ip, port, ok := parseProcAddr(f[2])
			if !ok || ip.IsUnspecified() && port == 0 || ip.IsLoopback() {
				continue
			}
			out = append(out, fmt.Sprintf("%s %s", proto, net.JoinHostPort(ip.String(), fmt.Sprint(port))))
		}
	}
	return out
}

// parseProcAddr decodes an address of /proc/net/tcp: hex IP in host
// (little-endian) 32-bit words, a colon, hex port.
func parseProcAddr(s string) (net.IP, int, bool) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, false
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b)%4 != 0 {
		return nil, 0, false
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	var port int
	if _, err := fmt.Sscanf(p, "%X", &port); err != nil {
		return nil, 0, false
	}
	return net.IP(b), port, true
}

// binArgs are the flags of a reporting run against node with the fake GA:
// our own GA4 property only, a private state dir and report file, and a
// known node name for the visibility checks.
func binArgs(t testing.TB, nodeName, cookieFile, endpoint, dir string, extra ...string) (args []string, ownName string) {
	ownName = erltest.UniqueName("mim_metrics_faults") + "@localhost"
	args = []string{"run", "--report", "--node", nodeName, "--cookie-file", cookieFile, "--name", ownName,
		"--ga-endpoint", endpoint, "--upstream=false", "--tracking-id", trackingID,
		"--state-dir", filepath.Join(dir, "state"), "--report-file", filepath.Join(dir, "report.json"),
		"--log-format", "json"}
	return append(args, extra...), ownName
}

// TestProcAddrParsing checks the socket monitor itself on this process:
// a connection to loopback is not foreign, the parser reads both forms.
func TestProcAddrParsing(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"35FFFF0A:0035":                         "10.255.255.53:53",
		"00000000000000000000000001000000:1F90": "[::1]:8080",
		"0000000000000000FFFF00000100007F:0050": "127.0.0.1:80",
	} {
		ip, port, ok := parseProcAddr(s)
		if got := net.JoinHostPort(ip.String(), fmt.Sprint(port)); !ok || got != want {
			t.Errorf("%s: %s, want %s", s, got, want)
		}
	}
	ga := fakega.New(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ga.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if fs := foreignEndpoints(os.Getpid()); len(fs) != 0 {
		t.Errorf("loopback connections reported as foreign: %v", fs)
	}
	// A UDP socket "connected" to a non-loopback address (no packet is
	// sent) must be seen.
	u, err := net.Dial("udp", "192.0.2.1:9")
	if err != nil {
		t.Skipf("no route for the self-check: %v", err)
	}
	defer u.Close()
	if fs := foreignEndpoints(os.Getpid()); len(fs) == 0 {
		t.Error("the monitor does not see a socket to 192.0.2.1")
	}
}
