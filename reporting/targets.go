package reporting

import (
	"fmt"
	"strings"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// Targets chooses where each report goes. MongooseIM's own property
// (upstream) receives reports of MongooseIM clusters unless switched off;
// ejabberd clusters have no upstream. The user's own tracking ids receive
// every report, as MongooseIM's extra tracking_id does, and so do the
// user's own receivers.
type Targets struct {
	// Upstream sends MongooseIM clusters' reports to MongooseIM's GA4
	// property (--upstream, default true).
	Upstream bool
	// CI selects MongooseIM's CI property instead of the release one, as
	// MongooseIM does when the environment has CI=true.
	CI bool
	// Own holds the user's tracking ids (--tracking-id).
	Own []Destination
	// Receivers holds the user's own receivers (--receiver, see
	// ParseReceiverURL).
	Receivers []Destination
}

// NewTargets builds Targets from the --upstream flag, the user's tracking
// ids and the environment (getenv, usually os.Getenv; CI=true selects
// MongooseIM's CI property).
func NewTargets(upstream bool, own []Destination, getenv func(string) string) Targets {
	ci := getenv != nil && getenv("CI") == "true"
	return Targets{Upstream: upstream, CI: ci, Own: own}
}

// For returns the destinations of a report from a cluster running server:
// the upstream property first (MongooseIM only, when enabled), then the
// user's tracking ids, then the user's receivers.
func (t Targets) For(server metrics.Server) []Destination {
	var ds []Destination
	if t.Upstream && server == metrics.MongooseIM {
		ds = append(ds, upstreamDestination(t.CI))
	}
	return append(append(ds, t.Own...), t.Receivers...)
}

// own lists the user's destinations for Describe: "your own tracking ids:
// ..." and "your receivers: ...", as configured.
func (t Targets) own() string {
	names := func(ds []Destination) string {
		s := make([]string, len(ds))
		for i, d := range ds {
			s[i] = d.String()
		}
		return strings.Join(s, ", ")
	}
	var parts []string
	if len(t.Own) > 0 {
		parts = append(parts, "your own tracking ids: "+names(t.Own))
	}
	if len(t.Receivers) > 0 {
		parts = append(parts, "your receivers: "+names(t.Receivers))
	}
	return strings.Join(parts, "; and to ")
}

// Describe says in one sentence where reports of a cluster running server
// go; reportFile is named when nothing is sent.
func (t Targets) Describe(server metrics.Server, reportFile string) string {
	own := t.own()
	nothing := fmt.Sprintf("no tracking ids or receivers are configured (--tracking-id, --receiver), so nothing is sent: the report is only written to %s", reportFile)
	switch {
	case server == metrics.MongooseIM && t.Upstream:
		s := fmt.Sprintf("MongooseIM cluster: reports go to MongooseIM's Google Analytics property %s", upstreamDestination(t.CI).ID)
		if own != "" {
			s += " and to " + own
		}
		return s
	case server == metrics.MongooseIM:
		if own == "" {
			return "MongooseIM cluster, upstream reporting switched off (--upstream=false): " + nothing
		}
		return "MongooseIM cluster, upstream reporting switched off (--upstream=false): reports go only to " + own
	case server == metrics.Ejabberd:
		if own == "" {
			return "ejabberd cluster: there is no upstream destination for ejabberd and " + nothing
		}
		return "ejabberd cluster: there is no upstream destination for ejabberd; reports go only to " + own
	default:
		if own == "" {
			return "no node runs MongooseIM or ejabberd: there is no upstream destination and " + nothing
		}
		return "no node runs MongooseIM or ejabberd: reports go only to " + own
	}
}

// clusterServer says what the cluster runs: MongooseIM if any node runs it,
// otherwise ejabberd if any node runs that, otherwise unknown ("").
func clusterServer(reports []metrics.NodeReport) metrics.Server {
	var server metrics.Server
	for _, r := range reports {
		switch r.Server {
		case metrics.MongooseIM:
			return metrics.MongooseIM
		case metrics.Ejabberd:
			server = metrics.Ejabberd
		}
	}
	return server
}
