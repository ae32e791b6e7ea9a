package facts

import (
	"reflect"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
)

// A dimension only a -metric declares gets its rule from the declaration:
// a count is bucketed and counted under its largest value, names under
// each name, and a field's since says which versions cannot report it.
func TestDeclaredSpecs(t *testing.T) {
	count := contract.Declaration{EventSpec: contract.EventSpec{Name: "max_queue", Params: []string{"value"},
		Numbers: []string{"value"}, Dimension: "max_queue"}, Fields: []contract.Field{{Name: "max_queue", Since: [3]int{6, 6, 0}}}}
	names := contract.Declaration{EventSpec: contract.EventSpec{Name: "storage_kind", Params: []string{"value"},
		Dimension: "storage"}, Fields: []contract.Field{{Name: "storage_kind"}}}
	written := contract.Declaration{EventSpec: contract.EventSpec{Name: "host_count", Params: []string{"value"},
		Numbers: []string{"value"}, Dimension: Hosts}, Fields: []contract.Field{{Name: "host_count"}}}
	specs := declaredSpecs([]contract.Declaration{count, names, written}, writtenSpecs)
	if len(specs) != 2 {
		t.Fatalf("%d specs, want 2 (hosts has a written one): %+v", len(specs), specs)
	}
	q, s := specs[0], specs[1]
	if q.Name != "max_queue" || q.Combine != LargestValue || !reflect.DeepEqual(q.Values, countBuckets) || q.AbsentMeansNone {
		t.Errorf("the count's spec: %+v", q)
	}
	if q.CanReport("6.5.0") || !q.CanReport("6.6.0") || !q.CanReport("23.01") || q.NotReported == "" {
		t.Errorf("since 6.6.0: 6.5.0 %v, 6.6.0 %v, ejabberd %v, %q", q.CanReport("6.5.0"), q.CanReport("6.6.0"), q.CanReport("23.01"), q.NotReported)
	}
	if s.Name != "storage" || s.Combine != EachValue || !s.AbsentMeansNone || !s.CanReport("3.5.0") || s.NotReported != "" {
		t.Errorf("the names' spec: %+v", s)
	}
	got := FromSummary(contract.Summary{Counts: map[string]int64{"max_queue": 500, CustomModules: 2},
		Names: map[string][]string{"storage": {"s3", "disk"}}}, "")
	want := []Fact{{Dimension: CustomModules, Value: "yes"}, {Dimension: "max_queue", Value: "101-1000"},
		{Dimension: "storage", Value: "disk"}, {Dimension: "storage", Value: "s3"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromSummary: %v, want %v", got, want)
	}
}
