package facts_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

func TestOfClusterDay(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	// Two nodes mid-upgrade: two versions, two cluster sizes, stanzas of
	// two types over two batches.
	dayFacts := []facts.Fact{
		f("version", "6.2.1"), f("version", "6.3.0"),
		f("node_number", "2"), f("node_number", "3"),
		f("module", "mod_muc"),
		{Dimension: facts.Stanza, Value: "message", Amount: 60},
		{Dimension: facts.Stanza, Value: "presence", Amount: 50},
	}
	got := facts.OfClusterDay(day, day.Add(5*time.Hour), dayFacts)
	wantProfile := []facts.Fact{
		f("module", "mod_muc"), f("node_number", "3"), f("stanza_volume", "101-10k"),
		f("version", "6.2.1"), f("version", "6.3.0"),
	}
	if !reflect.DeepEqual(got.Profile, wantProfile) {
		t.Errorf("profile = %v, want %v", got.Profile, wantProfile)
	}
	if want := []string{facts.AllVersions, "6.2.1", "6.3.0"}; !reflect.DeepEqual(got.Versions, want) {
		t.Errorf("versions = %v, want %v", got.Versions, want)
	}
	wantCounted := []facts.Fact{
		f("module", "mod_muc"), f("node_number", "3"),
		{Dimension: facts.StanzaVolume, Value: "101-10k", Amount: 110},
		f("version", "6.2.1"), f("version", "6.3.0"),
		{Dimension: facts.Stanza, Value: "message", Amount: 60},
		{Dimension: facts.Stanza, Value: "presence", Amount: 50},
		f("clusters", "new"),
	}
	if !reflect.DeepEqual(got.Counted, wantCounted) {
		t.Errorf("counted = %v, want %v", got.Counted, wantCounted)
	}
}

func TestOfClusterDayHoldsTheStanzaSum(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	got := facts.OfClusterDay(day, day, []facts.Fact{
		{Dimension: facts.Stanza, Value: "message", Amount: math.MaxInt64},
		{Dimension: facts.Stanza, Value: "presence", Amount: 7},
	})
	for _, c := range got.Counted {
		if c.Dimension == facts.StanzaVolume && (c.Value != "1M+" || c.Amount != math.MaxInt64) {
			t.Errorf("stanza volume = %+v, want 1M+ held at the int64 limit", c)
		}
	}
}

func TestAge(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		firstSeen time.Time
		want      string
	}{
		{day, facts.ClustersNew},
		{day.Add(23*time.Hour + 59*time.Minute), facts.ClustersNew},
		{day.Add(-time.Microsecond), facts.ClustersReturning},
		{day.AddDate(0, 0, -30), facts.ClustersReturning},
		// First seen after the day: a batch of an earlier day stored
		// later than the cluster's first (an import), counted as new.
		{day.AddDate(0, 0, 2), facts.ClustersNew},
		// Another time zone, the same instant: UTC dates decide.
		{day.In(time.FixedZone("UTC-5", -5*3600)), facts.ClustersNew},
	}
	for _, tt := range tests {
		if got := facts.Age(day.Add(12*time.Hour), tt.firstSeen); got != tt.want {
			t.Errorf("Age(%s, first seen %s) = %s, want %s", day, tt.firstSeen, got, tt.want)
		}
	}
}
