package facts

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mim-metrics/mim-metrics/contract"
)

// Combine says how the values a cluster reported for one dimension become
// the cluster's value, over the reports of one day (its nodes, its cycles)
// and over the days of a period.
type Combine int

const (
	// EachValue: the cluster counts under every value it reported (its
	// modules, its HTTP APIs, each version it ran during an upgrade).
	EachValue Combine = iota
	// LargestValue: the cluster counts once, under the largest value it
	// reported (the dimension's values are ordered buckets), so that the
	// buckets add up to the clusters that reported the dimension.
	LargestValue
)

// Spec is one dimension: how a cluster's values are combined, which values
// it has (in their order), and which server versions can report it.
type Spec struct {
	Name    string
	Combine Combine
	// Values are the known values, in drawing order (for LargestValue: the
	// smallest first). A value outside them is ranked below the smallest.
	Values []string
	// AbsentMeansNone: a cluster whose version can report the dimension
	// and that reported no value has none (no TLS listener, no pool), and
	// is counted among the clusters that could report it. Without it, only
	// the clusters that reported a value are.
	AbsentMeansNone bool
	// ReportedBy says whether a server version can report the dimension;
	// nil: every version. A version it does not know (ejabberd's, say) can.
	ReportedBy func(version string) bool
	// Rule is the combining rule in words, for the methodology page.
	Rule string
	// NotReported says in words which versions cannot report it; empty:
	// every version can.
	NotReported string
	// Bucket turns the number of a dimension stated by a count (a -metric
	// with a dimension and a number value) into its value; nil:
	// CountBucket.
	Bucket func(int64) string
}

// bucket is the value of a count n of the dimension.
func (s Spec) bucket(n int64) string {
	if s.Bucket == nil {
		return CountBucket(n)
	}
	return s.Bucket(n)
}

// Specs lists every dimension a report states, with its rule: those
// written here, then those only declared by a -metric attribute
// (declaredSpecs). The dashboard's methodology page is drawn from it.
var Specs = append(writtenSpecs, declaredSpecs(contract.MongooseIMDeclarations(), writtenSpecs)...)

// writtenSpecs are the dimensions whose rule is written here.
var writtenSpecs = []Spec{
	{Name: Version, Combine: EachValue,
		Rule: "each version the cluster ran: a cluster upgraded during the period counts under both versions"},
	{Name: NodeNumber, Combine: LargestValue, Values: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11-20", "21+"},
		Rule: "the largest cluster size a node reported (node_number is the cluster's size as each node sees it)"},
	{Name: ConfigType, Combine: LargestValue, Values: []string{"unknown_config_type", "cfg", "toml"},
		ReportedBy: since(4, 0, 1), NotReported: "MongooseIM before 4.0.1 does not report it",
		Rule: "the newest format a node reported (toml over cfg), one per cluster"},
	{Name: Components, Combine: LargestValue, Values: []string{"0", "1", "2-5", "6+"},
		Rule: "the most external components one node reported (each node counts the components connected to it; the reports do not say which node sent them, so they cannot be added up)"},
	{Name: Hosts, Combine: LargestValue, Values: countBuckets,
		Bucket: CountBucket, Rule: "the largest host (host type) count a node reported"},
	{Name: Domains, Combine: LargestValue, Values: countBuckets,
		ReportedBy: since(5, 0, 0), NotReported: "MongooseIM before 5.0.0 does not report it",
		Bucket: CountBucket, Rule: "the largest domain count a node reported"},
	{Name: CustomModules, Combine: LargestValue, Values: []string{"no", "yes"},
		Bucket: yesWhenAny, Rule: "yes when any node reported a custom module"},
	{Name: Module, Combine: EachValue, AbsentMeansNone: true,
		Rule: "each module any node runs"},
	{Name: ModuleBackend, Combine: EachValue,
		Rule: "each backend any node configured for the module; a cluster with two backends of one module (or a backend and an online backend) counts under both"},
	{Name: HTTPAPI, Combine: EachValue, AbsentMeansNone: true,
		Rule: "each HTTP API any node enables"},
	{Name: Transport, Combine: EachValue, AbsentMeansNone: true,
		Rule: "each transport any node enables"},
	{Name: TLS, Combine: EachValue, AbsentMeansNone: true,
		ReportedBy: before(6, 4, 0), NotReported: "MongooseIM 6.4.0 and later never report TLS options",
		Rule: "each TLS mode and library of any node's listeners"},
	{Name: Pool, Combine: EachValue, AbsentMeansNone: true,
		ReportedBy: since(3, 7, 0), NotReported: "MongooseIM before 3.7.0 does not report outgoing pools",
		Rule: "each outgoing pool type any node configures"},
	{Name: StanzaVolume, Combine: LargestValue, Values: []string{"0", "1-100", "101-10k", "10k-1M", "1M+"},
		NotReported: "MongooseIM before 3.7.0 sends no stanza counts, nor 6.4 and 6.5 without exometer",
		Rule:        "the busiest day: the stanzas counted that day by all its nodes (every type summed), bucketed"},
	{Name: Country, Combine: EachValue,
		Rule: "each country a node's report came from (only with a GeoIP database)"},
}

// declaredSpecs are the specs of the dimensions that declarations state
// and written does not have: a count is bucketed (CountBucket) and
// counted under its largest value; names count under each name, and a
// cluster whose version can report them and that reported none has none.
// A field's {since, {X, Y, Z}} says which versions can report it.
func declaredSpecs(declarations []contract.Declaration, written []Spec) []Spec {
	var out []Spec
	for _, d := range declarations {
		if d.Dimension == "" || slices.ContainsFunc(written, func(s Spec) bool { return s.Name == d.Dimension }) {
			continue
		}
		spec := Spec{Name: d.Dimension, Combine: EachValue, AbsentMeansNone: true,
			Rule: "each value any node reported (" + d.Name + ")"}
		if slices.Contains(d.Numbers, "value") {
			spec = Spec{Name: d.Dimension, Combine: LargestValue, Values: countBuckets,
				Rule: "the largest " + d.Name + " a node reported, bucketed"}
		}
		if since := d.Fields[0].Since; since != [3]int{} {
			spec.ReportedBy = since3(since)
			spec.NotReported = fmt.Sprintf("MongooseIM before %d.%d.%d does not report it", since[0], since[1], since[2])
		}
		out = append(out, spec)
	}
	return out
}

// countBuckets are CountBucket's values, smallest first.
var countBuckets = []string{"0", "1", "2-10", "11-100", "101-1000", "1001+"}

// yesWhenAny is "yes" for a positive count, else "no".
func yesWhenAny(n int64) string {
	if n > 0 {
		return "yes"
	}
	return "no"
}

// SpecOf returns the spec of a dimension, and whether it has one.
func SpecOf(name string) (Spec, bool) {
	i := slices.IndexFunc(Specs, func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return Specs[i], true
}

// Rank orders a LargestValue dimension's values: the position in Values,
// -1 for a value outside them.
func (s Spec) Rank(value string) int { return slices.Index(s.Values, value) }

// CanReport says whether a cluster running version can report the
// dimension.
func (s Spec) CanReport(version string) bool { return s.ReportedBy == nil || s.ReportedBy(version) }

// since is a ReportedBy for versions from major.minor.patch on.
func since(major, minor, patch int) func(string) bool {
	return since3([3]int{major, minor, patch})
}

func since3(first [3]int) func(string) bool {
	return func(v string) bool {
		n, ok := mongooseVersion(v)
		return !ok || compare3(n, first) >= 0
	}
}

// before is a ReportedBy for versions before major.minor.patch.
func before(major, minor, patch int) func(string) bool {
	return func(v string) bool {
		n, ok := mongooseVersion(v)
		return !ok || compare3(n, [3]int{major, minor, patch}) < 0
	}
}

// mongooseVersion reads "X.Y.Z" (and "X.Y.Z-anything"); false for other
// strings.
func mongooseVersion(v string) ([3]int, bool) {
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return [3]int{}, false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return [3]int{}, false
		}
		n[i] = x
	}
	return n, true
}

func compare3(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// CombineDay turns a cluster's facts of one day (the union of its nodes'
// reports) into its profile: per LargestValue dimension only the largest
// value, the stanza volume bucket of the day's summed increments (when it
// reported stanza counts), and no amounts. The result is sorted by
// dimension and value; stanza facts (amounts only) are left out.
func CombineDay(day []Fact) []Fact {
	largest := map[string]string{}
	var out []Fact
	var stanzas int64
	reportedStanzas := false
	for _, f := range day {
		switch f.Dimension {
		case Stanza:
			stanzas = AddAmounts(stanzas, f.Amount)
			reportedStanzas = true
			continue
		case StanzaVolume, Clusters:
			continue // computed here and at roll-up time
		}
		spec, ok := SpecOf(f.Dimension)
		if ok && spec.Combine == LargestValue {
			if cur, seen := largest[f.Dimension]; !seen || spec.Rank(f.Value) > spec.Rank(cur) {
				largest[f.Dimension] = f.Value
			}
			continue
		}
		out = append(out, Fact{Dimension: f.Dimension, Value: f.Value})
	}
	if reportedStanzas {
		largest[StanzaVolume] = StanzaVolumeBucket(stanzas)
	}
	for d, v := range largest {
		out = append(out, Fact{Dimension: d, Value: v})
	}
	slices.SortFunc(out, func(a, b Fact) int {
		if c := strings.Compare(a.Dimension, b.Dimension); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return slices.CompactFunc(out, func(a, b Fact) bool { return a.Dimension == b.Dimension && a.Value == b.Value })
}
