package etf

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// answersFile holds what a real MongooseIM 6.2.1 node (OTP 25) answered,
// [{Label, Result}] (etf/testdata/mongooseim-6.2.1-answers.txt is its text).
const answersFile = "testdata/corpus/mongooseim-6.2.1-answers.etf"

// answersText is the same, printed with ~p (answers.txt there).
const answersText = "testdata/mongooseim-6.2.1-answers.txt"

// answers decodes answersFile into its results by label, and the labels
// in order.
func answers(t testing.TB) (map[string]Term, []string) {
	t.Helper()
	b, err := os.ReadFile(answersFile)
	if err != nil {
		t.Fatal(err)
	}
	term, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	entries, ok := Elems(term)
	if !ok {
		t.Fatalf("answers are not a list: %s", FormatLimit(term, 200))
	}
	byLabel := make(map[string]Term)
	var labels []string
	for _, e := range entries {
		kv, ok := e.(Tuple)
		if !ok || len(kv) != 2 {
			t.Fatalf("entry is not a pair: %s", FormatLimit(e, 200))
		}
		label, ok := Text(kv[0])
		if !ok {
			t.Fatalf("label is not text: %s", FormatLimit(kv[0], 200))
		}
		byLabel[label] = kv[1]
		labels = append(labels, label)
	}
	return byLabel, labels
}

func TestAnswers(t *testing.T) {
	a, labels := answers(t)
	if len(labels) != 23 {
		t.Errorf("%d answers, want 23", len(labels))
	}
	get := func(label string) Term {
		t.Helper()
		v, ok := a[label]
		if !ok {
			t.Fatalf("no answer for %s", label)
		}
		return v
	}

	if got, want := get("mongoose_config:get_opt(hosts)"), (List{Binary("localhost")}); !reflect.DeepEqual(got, want) {
		t.Errorf("hosts = %s", Format(got))
	}
	if got := get("mongoose_config:get_opt(host_types)"); !reflect.DeepEqual(got, List{}) {
		t.Errorf("host_types = %#v", got)
	}
	if v, ok := Text(get("erlang:system_info(otp_release)")); !ok || v != "25" {
		t.Errorf("otp_release = %q, %v", v, ok)
	}
	if got, want := get("erlang:statistics(wall_clock)"), (Tuple{int64(14674), int64(2)}); !reflect.DeepEqual(got, want) {
		t.Errorf("wall_clock = %#v", got)
	}
	if n, ok := Int(get("mongoose_domain_core:domains_count()")); !ok || n != 1 {
		t.Errorf("domains_count = %d, %v", n, ok)
	}
	if got, want := get("erlang:whereis(service_mongoose_system_metrics)"), (Pid{Node: "mongooseim@localhost", ID: 607}); got.(Pid).Node != want.Node || got.(Pid).ID != want.ID {
		t.Errorf("whereis = %#v", got)
	}
	if got := get("mnesia:system_info(running_db_nodes)"); !Equal(got, List{Atom("mongooseim@localhost")}) {
		t.Errorf("running_db_nodes = %s", Format(got))
	}
	if r, ok := Record(get("mongoose_cluster_id:get_cached_cluster_id()"), "ok", 2); !ok || !Equal(r[1], Binary("d613125a-4f3f-431a-8a9a-24b4c5540a31")) {
		t.Errorf("cluster id = %s", Format(r))
	}

	// Modules: a map with atom keys whose values are maps.
	mods, ok := get(`mongoose_config:get_opt({modules, <<"localhost">>})`).(Map)
	if !ok || len(mods) != 9 {
		t.Fatalf("modules = %s", FormatLimit(mods, 200))
	}
	for _, p := range mods {
		if _, ok := p.Key.(Atom); !ok {
			t.Errorf("module key %s is not an atom", Format(p.Key))
		}
	}
	bosh, _ := mods.GetAtom("mod_bosh")
	if v, _ := bosh.(Map).GetAtom("backend"); !IsAtom(v, "mnesia") {
		t.Errorf("mod_bosh backend = %s", Format(v))
	}
	vcard, _ := mods.GetAtom("mod_vcard")
	if v, ok := vcard.(Map).Get(Atom("host")); !ok || !Equal(v, Tuple{Atom("prefix"), Binary("vjud.")}) {
		t.Errorf("mod_vcard host = %s", Format(v))
	}
	loaded, _ := Elems(get(`gen_mod:loaded_modules(<<"localhost">>)`))
	if len(loaded) != len(mods) {
		t.Errorf("%d loaded modules, %d configured", len(loaded), len(mods))
	}
	for _, m := range loaded {
		if _, ok := mods.Get(m); !ok {
			t.Errorf("loaded module %s not configured", Format(m))
		}
	}

	// Which modules export config_metrics/1: a proplist of booleans.
	exported := get("[{M, erlang:function_exported(M, config_metrics, 1)} || M <- loaded modules]")
	if v, ok := propGet(exported, Atom("mod_bosh")); !ok || !IsAtom(v, "true") {
		t.Errorf("mod_bosh config_metrics = %s, %v", Format(v), ok)
	}
	if v, ok := propGet(exported, Atom("mod_adhoc")); !ok || !IsAtom(v, "false") {
		t.Errorf("mod_adhoc config_metrics = %s, %v", Format(v), ok)
	}

	// Applications: {Name, Description, Version} triples.
	apps, _ := Elems(get("application:which_applications()"))
	var version string
	for _, app := range apps {
		if r, ok := Record(app, "mongooseim", 3); ok {
			version, _ = Text(r[2])
		}
	}
	if version != "6.2.1" {
		t.Errorf("mongooseim version %q", version)
	}

	// Listeners: maps, one of which is the c2s listener on port 15222.
	listen, _ := Elems(get("mongoose_config:get_opt(listen)"))
	var c2s Map
	for _, l := range listen {
		m, _ := l.(Map)
		if v, _ := m.GetAtom("module"); IsAtom(v, "mongoose_c2s_listener") {
			c2s = m
		}
	}
	if port, _ := c2s.GetAtom("port"); !Equal(port, int64(15222)) {
		t.Errorf("c2s port = %s", Format(port))
	}
	if ip, _ := c2s.GetAtom("ip_address"); !Equal(ip, String("127.0.0.1")) {
		t.Errorf("c2s ip_address = %s", Format(ip))
	}

	// Exometer values: [{[Host, Metric], [{count, N}, {one, N}]}].
	values, _ := Elems(get("exometer:get_values(['_', xmppMessageSent])"))
	if len(values) != 1 {
		t.Fatalf("exometer values = %s", Format(values))
	}
	kv := values[0].(Tuple)
	if !Equal(kv[0], List{Binary("localhost"), Atom("xmppMessageSent")}) {
		t.Errorf("exometer key = %s", Format(kv[0]))
	}
	if n, ok := propGet(kv[1], Atom("count")); !ok || !Equal(n, int64(0)) {
		t.Errorf("count = %s", Format(n))
	}
}

// TestAnswersFormat compares Format with answers.txt, which Erlang printed
// with line breaks: joining its lines gives what Format prints.
func TestAnswersFormat(t *testing.T) {
	txt, err := os.ReadFile(answersText)
	if err != nil {
		t.Fatal(err)
	}
	a, labels := answers(t)
	blocks := strings.Split(strings.TrimSpace(string(txt)), "\n\n")
	if len(blocks) != len(labels) {
		t.Fatalf("%d printed answers, %d decoded", len(blocks), len(labels))
	}
	// Erlang breaks lines after a comma, or after "=>" in place of a space.
	join := regexp.MustCompile(`(=>)?\n *`)
	for i, block := range blocks {
		label, printed, ok := strings.Cut(block, "\n  -> ")
		if !ok {
			t.Fatalf("block %d: no result: %q", i, block)
		}
		if label != labels[i] {
			t.Errorf("label %d: printed %q, decoded %q", i, label, labels[i])
		}
		want := join.ReplaceAllStringFunc(printed, func(s string) string {
			if strings.HasPrefix(s, "=>") {
				return "=> "
			}
			return ""
		})
		if got := Format(a[labels[i]]); got != want {
			t.Errorf("%s:\n got %s\nwant %s", label, got, want)
		}
	}
}
