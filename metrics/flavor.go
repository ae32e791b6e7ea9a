package metrics

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/mim-metrics/mim-metrics/etf"
)

// Flavor is what the collector knows about one node: the server, its
// version, and the MongooseIM generation whose calls it answers. It is
// chosen at run time from the node's own answers, never from a flag.
type Flavor struct {
	Server  Server
	Version string // as the node reports it; "" when it does not say
	OTP     string
	// Gen is the MongooseIM generation (major, minor, patch) whose calls
	// and event rules apply. It comes from the version when that parses,
	// else from the modules and functions the node has.
	Gen            [3]int
	BuiltinService bool
	has            map[string]bool
}

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// errNeitherServer: the node answers, and runs neither server. Its text
// follows the node's name (see onNode).
var errNeitherServer = errors.New("runs neither MongooseIM nor ejabberd (application:which_applications() lists neither)")

// flavorFromProbe interprets the answer of mim_metrics_probe:probe().
func flavorFromProbe(t etf.Term) (Flavor, error) {
	m, ok := t.(etf.Map)
	if !ok {
		return Flavor{}, fmt.Errorf("probe answered %s, want a map", etf.FormatLimit(t, 200))
	}
	f := Flavor{has: map[string]bool{}}
	if v, ok := m.GetAtom("otp"); ok {
		f.OTP, _ = etf.Text(v)
	}
	if v, ok := m.GetAtom("builtin_service"); ok {
		f.BuiltinService = etf.IsAtom(v, "true")
	}
	if v, ok := m.GetAtom("features"); ok {
		elems, _ := etf.Elems(v)
		for _, e := range elems {
			if tup, ok := e.(etf.Tuple); ok && len(tup) == 2 {
				if name, ok := tup[0].(etf.Atom); ok {
					f.has[string(name)] = etf.IsAtom(tup[1], "true")
				}
			}
		}
	}
	mim, _ := m.GetAtom("mongooseim")
	ejab, _ := m.GetAtom("ejabberd")
	switch {
	case mim != nil && !etf.IsAtom(mim, "undefined"):
		f.Server = MongooseIM
		f.Version, _ = etf.Text(mim)
	case ejab != nil && !etf.IsAtom(ejab, "undefined"):
		f.Server = Ejabberd
		f.Version, _ = etf.Text(ejab)
		return f, nil
	default:
		return f, errNeitherServer
	}
	if g, ok := parseGen(f.Version); ok {
		f.Gen = g
	} else {
		f.Gen = f.inferGen()
	}
	return f, nil
}

func parseGen(v string) ([3]int, bool) {
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return [3]int{}, false
	}
	var g [3]int
	for i := 0; i < 3; i++ {
		g[i], _ = strconv.Atoi(m[i+1])
	}
	return g, true
}

// inferGen guesses the generation from the modules and functions a node
// has, for builds whose version does not parse (e.g. "master-1a2b3c").
func (f Flavor) inferGen() [3]int {
	switch {
	case f.has["mongoose_component"]:
		return [3]int{6, 2, 0}
	case f.has["c2s_listener"]:
		return [3]int{6, 1, 0}
	case f.has["mongoose_config"]:
		return [3]int{5, 1, 0}
	case f.has["domain_core"]:
		return [3]int{5, 0, 0}
	case f.has["ejabberd_config_path"]:
		return [3]int{4, 0, 1}
	case f.has["module_metrics"]:
		return [3]int{3, 6, 0}
	}
	return [3]int{3, 5, 0}
}

// atLeast reports whether the flavor's generation is major.minor.patch or newer.
func (f Flavor) atLeast(major, minor, patch int) bool {
	g := f.Gen
	if g[0] != major {
		return g[0] > major
	}
	if g[1] != minor {
		return g[1] > minor
	}
	return g[2] >= patch
}

// String names the flavor for logs, e.g. "MongooseIM 6.2.1 (calls of 6.2)".
func (f Flavor) String() string {
	switch f.Server {
	case Ejabberd:
		return "ejabberd " + f.Version
	case MongooseIM:
		return fmt.Sprintf("MongooseIM %s (calls of %d.%d)", f.Version, f.Gen[0], f.Gen[1])
	}
	return "unknown server"
}

// Probe asks one node what it runs: one round trip.
func Probe(ctx context.Context, caller Caller, node string) (Flavor, error) {
	t, err := caller.EvalProgram(ctx, node, probeFiles, probeMain, nil)
	if err != nil {
		return Flavor{}, err
	}
	return flavorFromProbe(t)
}
