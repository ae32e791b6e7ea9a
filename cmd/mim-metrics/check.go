package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
)

// dial starts the hidden node with the configured cookie and seeds.
func dial(ctx context.Context, c *config) (*node.Cluster, error) {
	cookie, err := readCookie(c)
	if err != nil {
		return nil, err
	}
	return node.Start(ctx, node.Options{Seeds: c.nodes, Cookie: cookie, Name: c.name, Discover: c.discover, Dist: c.dist.dist})
}

// memberStatus is one line of `mim-metrics check`.
type memberStatus struct {
	node   string
	rtt    time.Duration
	flavor metrics.Flavor
	err    error
}

// runCheck connects, discovers the members and prints one line per member:
// reachable, unreachable, or down (a member the cluster records that no
// seed is connected to; it is not called). Exit 0 when every member
// answered.
func runCheck(ctx context.Context, c *config, w io.Writer) (int, error) {
	cl, err := dial(ctx, c)
	if err != nil {
		return exitFailure, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ms, merr := cl.Membership(ctx)
	members := ms.Members
	statuses := make([]memberStatus, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		if by, down := ms.RecordedBy(m); down && !slices.Contains(c.nodes, m) {
			statuses[i] = memberStatus{node: m, err: &node.NotRunningError{Node: m, RecordedBy: by}}
			continue
		}
		wg.Add(1)
		go func(i int, m string) {
			defer wg.Done()
			s := memberStatus{node: m}
			s.rtt, s.err = cl.Ping(ctx, m)
			if by, down := ms.RecordedBy(m); down && s.err != nil {
				s.err = &node.NotRunningError{Node: m, RecordedBy: by, Cause: s.err}
			}
			if s.err == nil {
				// A node that answers but runs neither server still answered.
				s.flavor, _ = metrics.Probe(ctx, cl, m)
			}
			statuses[i] = s
		}(i, m)
	}
	wg.Wait()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	failed := 0
	for _, s := range statuses {
		if s.err != nil {
			failed++
			state := "unreachable"
			if node.IsNotRunning(s.err) {
				state = "down"
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\n", s.node, state, s.err)
			continue
		}
		runs := s.flavor.String()
		if s.flavor.Server == "" {
			runs = "runs neither MongooseIM nor ejabberd"
		}
		fmt.Fprintf(tw, "%s\treachable\trtt %s\tOTP %s\t%s\n", s.node, s.rtt.Round(10*time.Microsecond), s.flavor.OTP, runs)
	}
	_ = tw.Flush()
	if merr != nil && failed == len(statuses) {
		return exitFailure, fmt.Errorf("no node answered")
	}
	if failed > 0 {
		return exitFailure, fmt.Errorf("%d of %d members did not answer", failed, len(statuses))
	}
	return exitOK, nil
}
