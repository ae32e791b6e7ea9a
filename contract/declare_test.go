package contract

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/etf"
)

// A declaration reads as the metric it describes: catalog entry, fields
// with their gates, and the builder of its events.
func TestDeclaration(t *testing.T) {
	src := `-module(m).
-export([]).
%% a comment -metric(#{}) in passing
-metric(#{event => pool_count, % a comment
          doc => "number of "
                 "pools: \"rdbms\"",
          params => [value], numbers => [{value, -1, 1000}],
          fields => [{pool_count, [quick, {since, {3, 7, 0}}]}, {other, [{needs, domain_core}]}, plain],
          events => count}).
-metric(#{fields => ['quoted@atom']}).
`
	terms, err := attributes(src, "metric")
	if err != nil {
		t.Fatal(err)
	}
	if len(terms) != 2 || terms[0].line != 4 || terms[1].line != 10 {
		t.Fatalf("attributes %+v", terms)
	}
	m, err := declaration(terms[0].term, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := EventSpec{Name: "pool_count", Params: []string{"value"}, Doc: `number of pools: "rdbms"`, Numbers: []string{"value"},
		Ranges: map[string]Range{"value": {Min: -1, Max: 1000}}}
	if !reflect.DeepEqual(m.EventSpec, want) {
		t.Errorf("spec %+v, want %+v", m.EventSpec, want)
	}
	wantFields := []Field{
		{Name: "pool_count", Quick: true, Since: [3]int{3, 7, 0}},
		{Name: "other", Feature: "domain_core"},
		{Name: "plain"},
	}
	if !reflect.DeepEqual(m.Fields, wantFields) {
		t.Errorf("fields %+v, want %+v", m.Fields, wantFields)
	}
	if m.Builder != "count" {
		t.Errorf("builder %q, want count", m.Builder)
	}
	internal, err := declaration(terms[1].term, nil)
	if err != nil || internal.Name != "" || internal.Fields[0].Name != "quoted@atom" || internal.Builder != "" {
		t.Errorf("a declaration of fields alone: %+v, %v", internal, err)
	}
}

// An event both servers send is described once: the second module's
// declaration takes the first's doc and params.
func TestDeclarationOfAKnownEvent(t *testing.T) {
	m, err := declaration(attribute(t, `#{event => host_count, fields => [host_count], events => count}`), mongooseIMDeclarations)
	if err != nil || m.Doc == "" || !reflect.DeepEqual(m.Params, []string{"value"}) {
		t.Fatalf("%+v, %v", m.EventSpec, err)
	}
	if _, err := declaration(attribute(t, `#{event => host_count, numbers => [value], fields => [host_count], events => count}`), mongooseIMDeclarations); err == nil || !strings.Contains(err.Error(), "without a doc") {
		t.Errorf("numbers of a known event given again without its doc: %v", err)
	}
	if _, err := declaration(attribute(t, `#{event => new_one, fields => [x], events => count}`), mongooseIMDeclarations); err == nil || !strings.Contains(err.Error(), "doc") {
		t.Errorf("an undescribed new event: %v", err)
	}
}

// attribute is the term of the attribute -metric(term).
func attribute(t *testing.T, term string) etf.Term {
	t.Helper()
	terms, err := attributes("-metric("+term+").\n", "metric")
	if err != nil || len(terms) != 1 {
		t.Fatalf("-metric(%s): %v, %v", term, terms, err)
	}
	return terms[0].term
}

// A broken declaration is an error naming the line and what is wrong.
func TestBadDeclarations(t *testing.T) {
	ok := `event => e, doc => "d", params => [value], fields => [f], events => count`
	for _, c := range []struct{ attr, want string }{
		{`#{` + ok + `, colour => red}`, "unknown key colour"},
		{`#{event => e, doc => "d", params => [value], fields => [f], events => "count"}`, "events: want the name of a builder"},
		{`#{event => e, doc => "d", params => [value], atoms => [other], fields => [f], events => count}`, "atoms: other is not one of the params"},
		{`#{event => e, doc => "d", params => [value], numbers => [{value, 0, 1}], atoms => [value], fields => [f], events => count}`, "atoms: value is not one of the params"},
		{`#{event => e, doc => "d", params => [value], fields => [], events => count}`, "fields: want a list"},
		{`#{event => e, doc => "d", params => [value], fields => [{f, [slow]}], events => count}`, "unknown option slow"},
		{`#{event => e, doc => "d", params => [value], fields => [{f, [{since, 3}]}], events => count}`, "unknown option"},
		{`#{event => e, doc => "d", params => [value], numbers => [{total, 0, 1}], fields => [f], events => count}`, "total is not one of the params"},
		{`#{event => e, doc => "d", params => [value], numbers => [value], fields => [f], events => count}`, "want {Name, Min, Max}"},
		{`#{event => e, doc => "d", params => [value], numbers => [{value, 5, 1}], fields => [f], events => count}`, "Min <= Max"},
		{`#{event => e, doc => "d", params => whitelist, fields => [f], events => count}`, "params: want"},
		{`#{event => e, fields => [f], events => count}`, "doc: say what the event means"},
		{`#{event => e, doc => Doc, params => [value], fields => [f], events => count}`, "no variables"},
		{`#{event => e, doc => "d, params => [value], fields => [f], events => count}).`, "unterminated"},
		{`#{` + ok + `}.`, `expected ")"`},
		{`[` + ok + `]`, "expected"},
		{`{` + ok + `}`, "expected"},
		{`#{fields => [f], doc => "d"}`, "without an event has only fields"},
	} {
		src := "-module(m).\n\n-metric(" + c.attr + ").\n"
		_, err := attributes(src, "metric")
		if err == nil {
			terms, _ := attributes(src, "metric")
			_, err = declaration(terms[0].term, nil)
		} else if !strings.Contains(err.Error(), "line 3") {
			t.Errorf("%s: the error does not name the line: %v", c.attr, err)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.attr, err, c.want)
		}
	}
}

// An attribute reads as the etf term a node would send for it: a string
// is a list of characters, compact when they fit in a byte.
func TestAttributeTerms(t *testing.T) {
	got := attribute(t, `#{a => [{b, -1, "x×y"}], 'c d' => "→", e => {}, f => ""}`)
	want := etf.Map{
		{Key: etf.Atom("a"), Value: etf.List{etf.Tuple{etf.Atom("b"), int64(-1), etf.String("x\xd7y")}}},
		{Key: etf.Atom("c d"), Value: etf.List{int64('→')}},
		{Key: etf.Atom("e"), Value: etf.Tuple{}},
		{Key: etf.Atom("f"), Value: etf.String("")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if doc, ok := erlString(etf.String("x\xd7y")); !ok || doc != "x×y" {
		t.Errorf("the text of a Latin-1 string: %q, %v", doc, ok)
	}
}
