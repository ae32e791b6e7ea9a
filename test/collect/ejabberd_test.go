package collect_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// TestEjabberd collects a real ejabberd 23.01 and checks the report
// against what ejabberd itself answers.
func TestEjabberd(t *testing.T) {
	if !erltest.EjabberdAvailable() {
		t.Skip("ejabberd not installed")
	}
	t.Parallel()
	ej, err := erltest.StartEjabberd(erltest.EjabberdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reports, logs, _ := collectOnce(t, []string{ej.Name()}, ej.Cookie(), true)
	if len(reports) != 1 {
		t.Fatalf("got %d reports, want 1", len(reports))
	}
	r := reports[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Server != metrics.Ejabberd {
		t.Errorf("server = %q, want ejabberd", r.Server)
	}
	for _, e := range logs.All() {
		t.Logf("warning: %s", e.Message)
	}
	t.Logf("report:\n%s", eventsJSON(r.Events))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// What ejabberd itself answers, asked through an ordinary Erlang node.
	ask := func(expr string) string {
		out, err := ej.Eval(ctx, expr)
		if err != nil {
			t.Fatalf("%s: %v: %s", expr, err, out)
		}
		return out
	}
	hostCount := ask(`length(ejabberd_option:hosts())`)
	if got := findEvents(r.Events, "host_count"); len(got) != 1 || fmt.Sprint(got[0].Params["value"]) != hostCount {
		t.Errorf("host_count = %v, ejabberd says %s", got, hostCount)
	}
	// One module_with_opt per host and ejabberd module, with db_type as backend.
	want := ask(`L = code:lib_dir(ejabberd), lists:sort([{atom_to_list(M), case gen_mod:get_module_opts(H, M) of #{db_type := D} -> atom_to_list(D); _ -> "" end} || H <- ejabberd_option:hosts(), M <- gen_mod:loaded_modules(H), lists:prefix(L, code:which(M))])`)
	var got []string
	for _, e := range findEvents(r.Events, "module_with_opt") {
		b, _ := e.Params["backend"].(string)
		got = append(got, fmt.Sprintf("{%q,%q}", e.Params["module"], b))
	}
	sort.Strings(got)
	norm := strings.ReplaceAll(regexp.MustCompile(`\s+`).ReplaceAllString(want, ""), ",[]}", `,""}`)
	if "["+strings.Join(got, ",")+"]" != norm {
		t.Errorf("modules:\n got  [%s]\n want %s", strings.Join(got, ","), norm)
	}
	custom := ask(`L = code:lib_dir(ejabberd), length(lists:usort([M || H <- ejabberd_option:hosts(), M <- gen_mod:loaded_modules(H), not lists:prefix(L, code:which(M))]))`)
	if got := findEvents(r.Events, "custom_module_count"); len(got) != 1 || fmt.Sprint(got[0].Params["value"]) != custom || custom == "0" {
		t.Errorf("custom_module_count = %v, ejabberd says %s (and it must be > 0 here)", got, custom)
	}
	cl := findEvents(r.Events, "cluster")
	if len(cl) != 1 {
		t.Fatalf("cluster events: %v", cl)
	}
	version := strings.Trim(ask(`ejabberd_option:version()`), `<>"`)
	if cl[0].Params["version"] != version {
		t.Errorf("version = %v, ejabberd says %s", cl[0].Params["version"], version)
	}
	if cl[0].Params["node_number"] != int64(1) {
		t.Errorf("node_number = %v, want 1", cl[0].Params["node_number"])
	}
	if up, _ := cl[0].Params["uptime"].(string); !regexp.MustCompile(`^\d{4}-\d\d:\d\d:\d\d$`).MatchString(up) {
		t.Errorf("uptime = %q", up)
	}
	tr := findEvents(r.Events, "transport_mechanism")
	if len(tr) != 1 || tr[0].Params["tcp"] != "enabled" || tr[0].Params["mod_bosh"] != "enabled" || tr[0].Params["ejabberd_http_ws"] != "enabled" {
		t.Errorf("transport_mechanism = %v, want tcp, mod_bosh and ejabberd_http_ws", tr)
	}
	api := findEvents(r.Events, "http_api")
	if len(api) != 1 || api[0].Params["mod_http_api"] != "enabled" {
		t.Errorf("http_api = %v, want mod_http_api", api)
	}
	assertNoSentinel(t, "ejabberd report", eventsJSON(r.Events),
		[]string{erltest.EjabberdHost1, erltest.EjabberdHost2, erltest.EjabberdCustomModule, "sentinel", "127.0.0.1", ej.Name()})
}
