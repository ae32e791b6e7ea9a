// Package facts says what a report tells about its cluster, as the
// dimension values that the receiver's roll-ups count distinct clusters
// for: server version, module and backend, transport, cluster size...
package facts

import (
	"sort"
	"strconv"

	"github.com/mim-metrics/mim-metrics/contract"
)

// Fact is one dimension value a cluster reported; Amount is summed over a
// day (stanza increments), zero for the others.
type Fact struct {
	Dimension string
	Value     string
	Amount    int64
}

// AllVersions is the version of the roll-up rows that count every cluster,
// whatever version it runs.
const AllVersions = "*"

// Dimensions. Every one but StanzaVolume and Clusters is stated by a
// report's events (FromEvents); those two are computed at roll-up time.
const (
	// Version is the server version (cluster.version).
	Version = "version"
	// NodeNumber is the cluster size (cluster.node_number), NodeNumberBucket.
	NodeNumber = "node_number"
	// ConfigType is the config format (cluster.config_type).
	ConfigType = "config_type"
	// Components is the number of external components, ComponentsBucket.
	Components = "components"
	// Hosts is host_count, CountBucket.
	Hosts = "hosts"
	// Domains is domain_count, CountBucket.
	Domains = "domains"
	// CustomModules is "yes" when custom_module_count > 0, else "no".
	CustomModules = "custom_modules"
	// Module is a module's name (module_with_opt.module).
	Module = "module"
	// ModuleBackend is "module/backend" ("none" without a backend), and
	// "module/online:backend" for an online_backend.
	ModuleBackend = "module_backend"
	// HTTPAPI is an enabled HTTP handler (a param name of http_api).
	HTTPAPI = "http_api"
	// Transport is an enabled transport (a param name of transport_mechanism).
	Transport = "transport"
	// TLS is "mode/module" of tls_option.
	TLS = "tls"
	// Pool is an outgoing pool's type (outgoing_pool.value).
	Pool = "pool"
	// Stanza is a stanza type; Amount is its increment (negative counts 0).
	Stanza = "stanza"
	// Country is the sender's ISO 3166-1 alpha-2 code, when known.
	Country = "country"
	// StanzaVolume is the bucket of one cluster's stanza increments summed
	// over the day (StanzaVolumeBucket); computed at roll-up time for the
	// clusters that reported stanza counts.
	StanzaVolume = "stanza_volume"
	// Clusters counts the day's active clusters as ClustersNew or
	// ClustersReturning; computed at roll-up time.
	Clusters = "clusters"
)

// Values of the Clusters dimension.
const (
	// ClustersNew: the first day the store ever saw this cluster.
	ClustersNew = "new"
	// ClustersReturning: a cluster seen on an earlier day.
	ClustersReturning = "returning"
)

// FromEvents returns the facts a batch's events state, one per dimension
// value (stanza Amounts summed per type), sorted by dimension and value.
// country is the sender's country code, or empty. The events are read by
// contract.Summarize: an event the catalog's rules refuse states nothing.
func FromEvents(events []contract.Event, country string) []Fact {
	return FromSummary(contract.Summarize(events), country)
}

// FromSummary returns the facts a summary states (see FromEvents).
func FromSummary(s contract.Summary, country string) []Fact {
	c := collector{index: map[key]int{}}
	for _, e := range s.Clusters {
		c.addIf(e.Version != "", Version, e.Version)
		c.addIf(e.ConfigType != "", ConfigType, e.ConfigType)
		if e.NodeNumber != nil {
			c.add(NodeNumber, NodeNumberBucket(*e.NodeNumber), 0)
		}
		if e.Components != nil {
			c.add(Components, ComponentsBucket(*e.Components), 0)
		}
	}
	for _, m := range s.Modules {
		c.add(Module, m.Module, 0)
		c.add(ModuleBackend, m.Module+"/"+orNone(m.Backend), 0)
		c.addIf(m.OnlineBackend != "", ModuleBackend, m.Module+"/online:"+m.OnlineBackend)
	}
	for _, t := range s.TLS {
		c.add(TLS, t.Mode+"/"+t.Module, 0)
	}
	for _, st := range s.Stanzas {
		c.add(Stanza, st.Type, max(st.Increment, 0))
	}
	for dimension, n := range s.Counts {
		spec, _ := SpecOf(dimension)
		c.add(dimension, spec.bucket(n), 0)
	}
	for dimension, names := range s.Names {
		for _, name := range names {
			c.add(dimension, name, 0)
		}
	}
	c.addIf(country != "", Country, country)
	sort.Slice(c.facts, func(i, j int) bool {
		a, b := c.facts[i], c.facts[j]
		if a.Dimension != b.Dimension {
			return a.Dimension < b.Dimension
		}
		return a.Value < b.Value
	})
	return c.facts
}

type key struct{ dimension, value string }

type collector struct {
	facts []Fact
	index map[key]int
}

func (c *collector) add(dimension, value string, amount int64) {
	k := key{dimension, value}
	if i, ok := c.index[k]; ok {
		c.facts[i].Amount = AddAmounts(c.facts[i].Amount, amount)
		return
	}
	c.index[k] = len(c.facts)
	c.facts = append(c.facts, Fact{Dimension: dimension, Value: value, Amount: amount})
}

// addIf adds an amount-less fact when ok.
func (c *collector) addIf(ok bool, dimension, value string) {
	if ok {
		c.add(dimension, value, 0)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// NodeNumberBucket buckets a cluster size: "1".."10", "11-20", "21+"
// ("0" for a size below 1).
func NodeNumberBucket(n int64) string {
	switch {
	case n < 1:
		return "0"
	case n <= 10:
		return strconv.FormatInt(n, 10)
	case n <= 20:
		return "11-20"
	}
	return "21+"
}

// ComponentsBucket buckets a number of external components: "0", "1",
// "2-5", "6+".
func ComponentsBucket(n int64) string {
	switch {
	case n < 1:
		return "0"
	case n == 1:
		return "1"
	case n <= 5:
		return "2-5"
	}
	return "6+"
}

// CountBucket buckets a host or domain count: "0", "1", "2-10", "11-100",
// "101-1000", "1001+".
func CountBucket(n int64) string {
	switch {
	case n < 1:
		return "0"
	case n == 1:
		return "1"
	case n <= 10:
		return "2-10"
	case n <= 100:
		return "11-100"
	case n <= 1000:
		return "101-1000"
	}
	return "1001+"
}

// StanzaVolumeBucket buckets one cluster's stanza increments of a day:
// "0", "1-100", "101-10k", "10k-1M", "1M+".
func StanzaVolumeBucket(sum int64) string {
	switch {
	case sum < 1:
		return "0"
	case sum <= 100:
		return "1-100"
	case sum <= 10_000:
		return "101-10k"
	case sum <= 1_000_000:
		return "10k-1M"
	}
	return "1M+"
}
