// Command tls measures what TLS distribution costs the sidecar, beside
// plain TCP in the same run: `mim-metrics check` (the real binary, from
// its start to its exit: the TLS handshake is in it) and a steady
// collection cycle (one connection, every cycle after the first), against
// two fixture nodes of the same generation, one started with
// -proto_dist inet_tls (verify_peer, fail_if_no_peer_cert) and one
// without. The runs alternate, so a busy machine slows both alike. It
// prints a Markdown table of the medians and their ratio.
//
// Run it from the module root (about a minute on 2 cores):
//
//	go run ./test/bench/tls
//
// See docs/performance.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/certtest"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

func main() {
	fixture := flag.String("fixture", "mim-6.2.1", "the fixture generation (a directory of test/fixtures)")
	checks := flag.Int("checks", 15, "runs of check over each protocol")
	cycles := flag.Int("cycles", 200, "steady collection cycles over each protocol")
	flag.Parse()
	if err := run(*fixture, *checks, *cycles); err != nil {
		fmt.Fprintln(os.Stderr, "bench tls:", err)
		os.Exit(1)
	}
}

// side is one protocol's node and how the sidecar reaches it.
type side struct {
	name  string
	node  *erltest.Node
	flags []string
	dist  node.Dist
}

func run(fixture string, checks, cycles int) error {
	if checks < 1 || cycles < 1 || checks > 1000 || cycles > 100000 {
		return errors.New("-checks and -cycles must be positive (at most 1000 and 100000)")
	}
	defer erltest.Cleanup()
	dir, err := os.MkdirTemp("", "mim-bench-tls")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "mim-metrics")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/mim-metrics").CombinedOutput(); err != nil {
		return fmt.Errorf("build (run from the module root): %v: %s", err, out)
	}
	ca, err := certtest.NewCA(dir, "bench")
	if err != nil {
		return err
	}
	nodeCert, nodeKey, err := ca.Issue(certtest.Spec{Name: "node", DNS: []string{"localhost"}, IPs: []string{"127.0.0.1"}})
	if err != nil {
		return err
	}
	clientCert, clientKey, err := ca.Issue(certtest.Spec{Name: "client"})
	if err != nil {
		return err
	}
	nodeOpts, sidecarOpts := filepath.Join(dir, "node.conf"), filepath.Join(dir, "sidecar.conf")
	if err := certtest.OptFile(nodeOpts, nodeCert, nodeKey, ca.CAFile); err != nil {
		return err
	}
	if err := certtest.OptFile(sidecarOpts, clientCert, clientKey, ca.CAFile); err != nil {
		return err
	}
	cookie := erltest.RandomCookie()
	plainNode, err := erltest.StartFixture(fixture, erltest.Options{Alive: erltest.UniqueName("tcp"), Cookie: cookie})
	if err != nil {
		return err
	}
	tlsNode, err := erltest.StartFixture(fixture, erltest.Options{Alive: erltest.UniqueName("tls"), Cookie: cookie,
		Proto: "inet_tls", Args: []string{"-ssl_dist_optfile", nodeOpts}})
	if err != nil {
		return err
	}
	opts, err := node.ReadSSLDistOptFile(sidecarOpts)
	if err != nil {
		return err
	}
	cfg, _, err := opts.Config()
	if err != nil {
		return err
	}
	cookieFile := filepath.Join(dir, "cookie")
	if err := os.WriteFile(cookieFile, []byte(cookie), 0o400); err != nil {
		return err
	}
	sides := []*side{
		{name: "plain TCP (inet_tcp)", node: plainNode},
		{name: "TLS (inet_tls)", node: tlsNode, flags: []string{"--proto-dist", "inet_tls", "--ssl-dist-optfile", sidecarOpts},
			dist: node.Dist{Proto: "inet_tls", TLS: cfg}},
	}

	checkTimes := make([][]time.Duration, len(sides))
	for i := 0; i < checks; i++ {
		for j, s := range sides {
			d, err := timeCheck(bin, cookieFile, s)
			if err != nil {
				return err
			}
			checkTimes[j] = append(checkTimes[j], d)
		}
	}
	cycleTimes, err := timeCycles(sides, cookie, cycles)
	if err != nil {
		return err
	}

	fmt.Printf("Fixture %s, one node per protocol; medians of %d runs of check and %d steady cycles.\n\n", fixture, checks, cycles)
	fmt.Println("| | check (binary, start to exit) | steady cycle (1 round trip) |")
	fmt.Println("|---|---|---|")
	for j, s := range sides {
		fmt.Printf("| %s | %v | %v |\n", s.name, median(checkTimes[j]).Round(100*time.Microsecond), median(cycleTimes[j]).Round(time.Microsecond))
	}
	fmt.Printf("| TLS / TCP | %.2f | %.2f |\n", ratio(checkTimes), ratio(cycleTimes))
	return nil
}

// timeCheck runs `mim-metrics check` once against s and times it.
func timeCheck(bin, cookieFile string, s *side) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"check", "--node", s.node.Name, "--cookie-file", cookieFile}, s.flags...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"HOME=" + os.TempDir(), "ERL_EPMD_PORT=" + os.Getenv("ERL_EPMD_PORT")}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("check over %s: %v: %s", s.name, err, out)
	}
	return time.Since(start), nil
}

// timeCycles collects n steady cycles over each side's connection, in
// turns, after a first cycle that connects and prepares the programs.
func timeCycles(sides []*side, cookie string, n int) ([][]time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cols := make([]*metrics.Collector, len(sides))
	for j, s := range sides {
		cl, err := node.Start(ctx, node.Options{Seeds: []string{s.node.Name}, Cookie: cookie, Dist: s.dist})
		if err != nil {
			return nil, err
		}
		defer cl.Close()
		cols[j] = metrics.NewCollector(cl, nil)
		if _, err := cols[j].Collect(ctx); err != nil {
			return nil, fmt.Errorf("first cycle over %s: %w", s.name, err)
		}
	}
	out := make([][]time.Duration, len(sides))
	for i := 0; i < n; i++ {
		for j, s := range sides {
			start := time.Now()
			if _, err := cols[j].Collect(ctx); err != nil {
				return nil, fmt.Errorf("cycle over %s: %w", s.name, err)
			}
			out[j] = append(out[j], time.Since(start))
		}
	}
	return out, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// ratio is the TLS median over the TCP median.
func ratio(times [][]time.Duration) float64 {
	return float64(median(times[1])) / float64(median(times[0]))
}
