package node

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sort"

	"github.com/mim-metrics/mim-metrics/etf"
)

// The members of a cluster are what its seeds know: the nodes they are
// connected to (nodes()), and the members the cluster's own record names
// (erl/mim_metrics_members.erl: Mnesia's db_nodes, CETS discovery's
// nodes). A recorded member that no seed is connected to is down: it is
// still a member, until it leaves the cluster and so the record.

//go:embed erl/mim_metrics_members.erl
var membersModule string

// MembersModule is the source of the Erlang module mim_metrics_members,
// which reads a node's record of its cluster's members; the gathers
// include it (see package metrics), so that they answer it too.
func MembersModule() string { return membersModule }

// membersMain is what a listing of the members evaluates on a seed.
const membersMain = "{erlang:nodes(), mim_metrics_members:recorded()}."

// Peers is what one seed knows of its cluster.
type Peers struct {
	// Connected are the nodes the seed is connected to (nodes()).
	Connected []string
	// Recorded are the members the cluster's record on the seed names,
	// running or not; nil when not known.
	Recorded []string
}

// Membership is the cluster's members as its seeds know them.
type Membership struct {
	// Members are every member, sorted: the seeds, the nodes a seed is
	// connected to and the members a seed's record names.
	Members []string
	// Down are the members that the record of a seed that answered names
	// but that no such seed is connected to and that did not answer
	// themselves, each with the seed whose record names it.
	Down map[string]string
}

// RecordedBy returns the seed whose record names n when n is down.
func (m Membership) RecordedBy(n string) (string, bool) {
	s, ok := m.Down[n]
	return s, ok
}

// Membership lists the cluster's members: the seeds, plus, with
// Discover, every node a reachable seed is connected to or records as a
// member (one round trip a seed). Unreachable seeds are still members
// (their reports say why they are missing). The error is non-nil only
// when no seed answered.
func (c *Cluster) Membership(ctx context.Context) (Membership, error) {
	if !c.opts.Discover {
		return MembershipOf(c.opts.Seeds, func(string) (Peers, error) { return Peers{}, nil })
	}
	return MembershipOf(c.opts.Seeds, func(seed string) (Peers, error) {
		t, err := c.EvalProgram(ctx, seed, []string{membersModule}, membersMain, nil)
		if err != nil {
			return Peers{}, err
		}
		tup, _ := t.(etf.Tuple)
		if len(tup) != 2 {
			return Peers{}, &badAnswerError{node: seed, what: "the member listing answered " + etf.FormatLimit(t, 200)}
		}
		connected, okC := NodeNames(tup[0])
		recorded, okR := NodeNames(tup[1])
		if !okC || !okR {
			return Peers{}, &badAnswerError{node: seed, what: "the member listing answered " + etf.FormatLimit(t, 200)}
		}
		return Peers{Connected: connected, Recorded: recorded}, nil
	})
}

// NodeNames reads a list of node names (atoms); false when t is not a
// list. Elements that are not node names are left out.
func NodeNames(t etf.Term) ([]string, bool) {
	elems, ok := etf.Elems(t)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		if a, ok := e.(etf.Atom); ok {
			if _, err := ParseName(string(a)); err == nil {
				out = append(out, string(a))
			}
		}
	}
	return out, true
}

// MembershipOf is the membership known to seeds: the seeds and the peers
// that peersOf gives for each seed, sorted and without repeats, and the
// recorded members that are down. The error is the first seed's, and is
// returned only when no seed answered (the members are then the seeds).
func MembershipOf(seeds []string, peersOf func(seed string) (Peers, error)) (Membership, error) {
	set := map[string]bool{}
	running := map[string]bool{}
	recordedBy := map[string]string{}
	var firstErr error
	answered := false
	for _, seed := range seeds {
		set[seed] = true
		p, err := peersOf(seed)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		answered = true
		running[seed] = true
		for _, n := range p.Connected {
			set[n] = true
			running[n] = true
		}
		for _, n := range p.Recorded {
			set[n] = true
			if _, ok := recordedBy[n]; !ok {
				recordedBy[n] = seed
			}
		}
	}
	m := Membership{Members: make([]string, 0, len(set))}
	for n := range set {
		m.Members = append(m.Members, n)
	}
	sort.Strings(m.Members)
	for n, seed := range recordedBy {
		if !running[n] {
			if m.Down == nil {
				m.Down = map[string]string{}
			}
			m.Down[n] = seed
		}
	}
	if !answered && len(seeds) > 0 {
		return m, firstErr
	}
	return m, nil
}

// NotRunningError is the error of a member that the cluster records but
// that is not running: no seed is connected to it.
type NotRunningError struct {
	Node string
	// RecordedBy is the seed whose record names the member.
	RecordedBy string
	// Cause, for a seed, is why it could not be collected; nil for a
	// member that was not called (nobody could reach it).
	Cause error
}

func (e *NotRunningError) Error() string {
	msg := fmt.Sprintf("node %s is a member of the cluster but not running: %s records it as a member and no seed is connected to it", e.Node, e.RecordedBy)
	if e.Cause != nil {
		msg += " (" + e.Cause.Error() + ")"
	}
	return msg
}

// Unwrap returns the cause.
func (e *NotRunningError) Unwrap() error { return e.Cause }

// IsNotRunning reports whether err is, or wraps, a NotRunningError.
func IsNotRunning(err error) bool {
	var nr *NotRunningError
	return errors.As(err, &nr)
}
