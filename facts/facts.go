// Package facts says what a report tells about its cluster, as the
// dimension values that the receiver's roll-ups count distinct clusters
// for: server version, module and backend, transport, cluster size...
package facts

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
