package metrics

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/etf"
)

func ok(v etf.Term) etf.Tuple { return etf.Tuple{etf.Atom("ok"), v} }

func TestFormatUptime(t *testing.T) {
	for ms, want := range map[int64]string{
		0:                                    "0000-00:00:00",
		300_000:                              "0000-00:05:00",
		(3*86400+17*3600+42*60+9)*1000 + 999: "0003-17:42:09",
		12345 * 86400 * 1000:                 "12345-00:00:00",
	} {
		if got := FormatUptime(ms); got != want {
			t.Errorf("FormatUptime(%d) = %q, want %q", ms, got, want)
		}
	}
}

func TestModuleEventsKeepOnlyIdentifiers(t *testing.T) {
	var warnings []string
	fs := fields{warn: func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }, m: etf.Map{
		{Key: etf.Atom("host_modules"), Value: ok(etf.List{
			etf.Tuple{etf.Atom("mod_vcard"), ok(etf.List{etf.Tuple{etf.Atom("backend"), etf.Atom("mnesia")}})},
			etf.Tuple{etf.Atom("mod_adhoc"), ok(etf.List{etf.Tuple{etf.Atom("none"), etf.Atom("none")}})},
			// mod_event_pusher reports backend twice: the last one wins.
			etf.Tuple{etf.Atom("mod_event_pusher"), ok(etf.List{
				etf.Tuple{etf.Atom("backend"), etf.Atom("http")}, etf.Tuple{etf.Atom("backend"), etf.Atom("push")}})},
			etf.Tuple{etf.Atom("mod_push_service_mongoosepush"), ok(etf.List{etf.Tuple{etf.Atom("api_version"), etf.Binary("v3")}})},
			// A value that is a domain must not leave.
			etf.Tuple{etf.Atom("mod_muc"), ok(etf.List{etf.Tuple{etf.Atom("host"), etf.Binary("muc.sentinel-7f3a.example")}})},
			etf.Tuple{etf.Atom("mod_crashy"), etf.Tuple{etf.Atom("error"), etf.Tuple{etf.Atom("error"), etf.Binary("badarg")}}},
			etf.Tuple{etf.Binary("not an atom"), ok(etf.List{})},
		})},
	}}
	evs := pairModuleEvents(fs, "host_modules")
	got := fmt.Sprint(evs)
	want := "[{module_with_opt map[backend:mnesia module:mod_vcard]} {module_with_opt map[module:mod_adhoc]} " +
		"{module_with_opt map[backend:push module:mod_event_pusher]} {module_with_opt map[api_version:v3 module:mod_push_service_mongoosepush]}]"
	if got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	if strings.Contains(got, "sentinel") {
		t.Errorf("a domain leaked: %s", got)
	}
	if len(warnings) != 3 {
		t.Errorf("want 3 warnings (domain value, crash, bad name), got %q", warnings)
	}
}

// The MongooseIM shape: {HostCount, [{Module, none | {all, PerHost} | {each, PerHost}}]}.
func TestModuleEventsCrossProduct(t *testing.T) {
	var warnings []string
	b := func(k, v string) etf.Tuple { return etf.Tuple{etf.Atom(k), etf.Atom(v)} }
	fs := fields{warn: func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }, m: etf.Map{
		{Key: etf.Atom("modules"), Value: ok(etf.Tuple{int64(2), etf.List{
			etf.Tuple{etf.Atom("mod_adhoc"), etf.Atom("none")},
			etf.Tuple{etf.Atom("mod_muc"), etf.Tuple{etf.Atom("all"), etf.List{
				etf.List{b("backend", "mnesia"), b("online_backend", "cets")},
				etf.List{b("none", "none")}}}},
			etf.Tuple{etf.Atom("mod_vcard"), etf.Tuple{etf.Atom("each"), etf.List{
				ok(etf.List{b("backend", "rdbms")}),
				etf.Tuple{etf.Atom("error"), etf.Binary("badarg")}}}},
		}})},
	}}
	got := fmt.Sprint(moduleEvents(fs))
	want := "[{module_with_opt map[module:mod_adhoc]} {module_with_opt map[backend:mnesia module:mod_muc online_backend:cets]} {module_with_opt map[backend:rdbms module:mod_vcard]} " +
		"{module_with_opt map[module:mod_adhoc]} {module_with_opt map[module:mod_muc]}]"
	if got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "mod_vcard") {
		t.Errorf("want one warning for mod_vcard on the second host, got %q", warnings)
	}
}

func TestStanzaIncrements(t *testing.T) {
	answer := func(sent int64) fields {
		return fields{warn: func(string, ...any) {}, m: etf.Map{{Key: etf.Atom("stanzas"), Value: ok(etf.List{
			etf.Tuple{etf.Atom("xmppMessageSent"), sent},
			etf.Tuple{etf.Atom("xmppIqSent"), int64(7)},
		})}}}
	}
	evs, totals := stanzaCountEvents(answer(12), nil)
	if evs[0].Params["increment"] != int64(12) || evs[0].Params["total"] != int64(12) {
		t.Errorf("first report: %v, want increment = total", evs[0])
	}
	evs, totals = stanzaCountEvents(answer(15), totals)
	if evs[0].Params["increment"] != int64(3) || evs[1].Params["increment"] != int64(0) {
		t.Errorf("second report: %v", evs)
	}
	// A counter reset gives a negative increment, as in MongooseIM.
	evs, _ = stanzaCountEvents(answer(2), totals)
	if evs[0].Params["increment"] != int64(-13) {
		t.Errorf("after a reset: %v", evs[0])
	}
	// Without counters (6.4+ without exometer): no events, totals kept.
	none := fields{warn: func(string, ...any) {}, m: etf.Map{{Key: etf.Atom("stanzas"), Value: ok(etf.Atom("none"))}}}
	evs, kept := stanzaCountEvents(none, totals)
	if len(evs) != 0 || kept["xmppMessageSent"] != 15 {
		t.Errorf("none: %v, %v", evs, kept)
	}
}

func TestFlavorFromProbe(t *testing.T) {
	probe := func(mim, ejab etf.Term, features ...string) etf.Map {
		var fl etf.List
		for _, f := range features {
			fl = append(fl, etf.Tuple{etf.Atom(f), etf.Atom("true")})
		}
		return etf.Map{
			{Key: etf.Atom("mongooseim"), Value: mim},
			{Key: etf.Atom("ejabberd"), Value: ejab},
			{Key: etf.Atom("otp"), Value: etf.String("25")},
			{Key: etf.Atom("builtin_service"), Value: etf.Atom("true")},
			{Key: etf.Atom("features"), Value: fl},
		}
	}
	u := etf.Atom("undefined")
	cases := []struct {
		probe etf.Map
		gen   [3]int
		srv   Server
	}{
		{probe(etf.String("6.2.1"), u, "mongoose_config"), [3]int{6, 2, 1}, MongooseIM},
		{probe(etf.String("6.2.0-12-gabcdef0"), u), [3]int{6, 2, 0}, MongooseIM},
		{probe(etf.String("master-1a2b3c"), u, "mongoose_config", "c2s_listener"), [3]int{6, 1, 0}, MongooseIM},
		{probe(etf.String("custom"), u, "ejabberd_config"), [3]int{3, 5, 0}, MongooseIM},
		{probe(u, etf.String("23.01-1")), [3]int{}, Ejabberd},
	}
	for _, c := range cases {
		f, err := flavorFromProbe(c.probe)
		if err != nil || f.Gen != c.gen || f.Server != c.srv || !f.BuiltinService || f.OTP != "25" {
			t.Errorf("%s: got %+v, %v; want gen %v server %s", etf.Format(c.probe), f, err, c.gen, c.srv)
		}
	}
	if _, err := flavorFromProbe(probe(u, u)); err == nil {
		t.Error("a node running neither server was accepted")
	}
	if _, err := flavorFromProbe(etf.Atom("junk")); err == nil {
		t.Error("a junk probe answer was accepted")
	}
}

// TestIsIdent checks the identifier filter against its definition, the
// regular expression ^[A-Za-z][A-Za-z0-9_]{0,99}$, on edge cases and on
// every short string over a small alphabet.
func TestIsIdent(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)
	cases := []string{"", "a", "Z", "_a", "9a", "a9", "a_", "mod_muc", "example.com", "a b", "a-b", "é",
		"a\x00", "a\n", strings.Repeat("a", 100), strings.Repeat("a", 101), "[::1]", "10.0.0.1", "user@host"}
	alphabet := []byte{'a', 'Z', '0', '_', '.', '-'}
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		cases = append(cases, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+string(c), n-1)
		}
	}
	gen("", 4)
	for _, s := range cases {
		if got, want := isIdent(s), re.MatchString(s); got != want {
			t.Errorf("isIdent(%q) = %v, want %v", s, got, want)
		}
	}
}

// A declaration whose events key names no builder is refused, naming the
// builders there are.
func TestUnknownBuilder(t *testing.T) {
	d := contract.Declaration{EventSpec: contract.EventSpec{Name: "e"}, Fields: []contract.Field{{Name: "f"}}, Builder: "sum"}
	if _, err := withBuilders([]contract.Declaration{d}); err == nil || !strings.Contains(err.Error(), "events: want one of") {
		t.Errorf("builder sum: %v", err)
	}
	d.Builder = "count"
	ms, err := withBuilders([]contract.Declaration{d})
	if err != nil {
		t.Fatal(err)
	}
	fs := fields{m: etf.Map{{Key: etf.Atom("f"), Value: ok(int64(3))}}, warn: func(string, ...any) {}}
	evs := ms[0].events(&reading{fs: fs})
	if len(evs) != 1 || evs[0].Name != "e" || evs[0].Params["value"] != int64(3) {
		t.Errorf("events %+v", evs)
	}
}
