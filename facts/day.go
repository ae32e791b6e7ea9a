package facts

import "time"

// ClusterDay is what one cluster's facts of one day count for in that
// day's roll-ups: the cluster is counted once under each of Versions for
// each of Counted, with the fact's amount summed.
type ClusterDay struct {
	// Profile is the day's facts combined (CombineDay): what the cluster
	// runs of a period are made of.
	Profile []Fact
	// Versions are AllVersions and each version the cluster reported (a
	// cluster mid-upgrade counts under both).
	Versions []string
	// Counted are the profile's facts, each stanza type with its summed
	// increments, StanzaVolume with the day's traffic (every type summed)
	// as its amount, and Clusters: ClustersNew or ClustersReturning.
	Counted []Fact
}

// OfClusterDay derives what a cluster's facts of day (the union of its
// batches' FromEvents, amounts summed per value) count for; firstSeen is
// when the cluster was first seen, in any batch: it is new on that day.
func OfClusterDay(day, firstSeen time.Time, dayFacts []Fact) ClusterDay {
	profile := CombineDay(dayFacts)
	d := ClusterDay{Profile: profile, Versions: []string{AllVersions}}
	counted := make([]Fact, 0, len(profile)+8)
	counted = append(counted, profile...)
	for _, f := range profile {
		if f.Dimension == Version {
			d.Versions = append(d.Versions, f.Value)
		}
	}
	var stanzas int64
	for _, f := range dayFacts {
		if f.Dimension == Stanza {
			counted = append(counted, f)
			stanzas = AddAmounts(stanzas, f.Amount)
		}
	}
	for i, f := range counted {
		if f.Dimension == StanzaVolume {
			counted[i].Amount = stanzas // the day's traffic, beside its bucket
		}
	}
	d.Counted = append(counted, Fact{Dimension: Clusters, Value: Age(day, firstSeen)})
	return d
}

// Age is a cluster's value of the Clusters dimension on day: ClustersNew
// on the UTC day it was first seen (or before it: an imported report
// older than the first one), else ClustersReturning. A batch older than
// a cluster's first seen therefore moves its new day: the store rolls up
// the former first day again.
func Age(day, firstSeen time.Time) string {
	if utcDate(firstSeen).Before(utcDate(day)) {
		return ClustersReturning
	}
	return ClustersNew
}

func utcDate(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
