package contract

import (
	"io/fs"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// The gathering's Erlang modules pass the compiler with warnings as
// errors: a syntax error, an unbound or unused variable, an undefined or
// unused function fails here, not on a production node.
func TestErlangModulesCompile(t *testing.T) {
	erltest.Require(t)
	files, err := fs.Glob(erlFS, "erl/*.erl")
	if err != nil || len(files) < 4 {
		t.Fatalf("embedded modules %v, %v", files, err)
	}
	args := append([]string{"+warnings_as_errors", "-o", t.TempDir()}, files...)
	if out, err := exec.Command("erlc", args...).CombinedOutput(); err != nil {
		t.Errorf("erlc %v: %v\n%s", files, err, out)
	}
}

// probeFeatures are the feature names mim_metrics_probe:features/0 knows.
func probeFeatures(t *testing.T) map[string]bool {
	src := ErlModule("mim_metrics_probe")
	i := strings.Index(src, "\nfeatures() ->")
	if i < 0 {
		t.Fatal("mim_metrics_probe has no features/0")
	}
	body := src[i : i+strings.Index(src[i:], "].")]
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`\{(\w+), \w+, \w+, \d+\}`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = true
	}
	if len(out) < 10 {
		t.Fatalf("read only %d features from mim_metrics_probe:features/0", len(out))
	}
	return out
}

// Every feature a declaration names is one the probe reports: a typo
// would silently leave the field out.
func TestDeclaredFeaturesAreProbed(t *testing.T) {
	known := probeFeatures(t)
	for _, ms := range [][]Declaration{mongooseIMDeclarations, ejabberdDeclarations} {
		for _, m := range ms {
			for _, f := range m.Fields {
				if f.Feature != "" && !known[f.Feature] {
					t.Errorf("metric %s: field %s needs feature %q, which mim_metrics_probe:features/0 does not report", m.Name, f.Name, f.Feature)
				}
			}
		}
	}
}

// Every declared field is a clause of the server module's metric/2, and
// every clause is declared.
func TestDeclaredFieldsAreClauses(t *testing.T) {
	for module, ms := range map[string][]Declaration{"mim_metrics_mongooseim": mongooseIMDeclarations, "mim_metrics_ejabberd": ejabberdDeclarations} {
		clauses := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^metric\((\w+), `).FindAllStringSubmatch(ErlModule(module), -1) {
			clauses[m[1]] = true
		}
		declared := map[string]bool{}
		for _, m := range ms {
			for _, f := range m.Fields {
				declared[f.Name] = true
				if !clauses[f.Name] {
					t.Errorf("%s: field %s is declared but %s has no metric(%s, _) clause", module, f.Name, module, f.Name)
				}
			}
		}
		for c := range clauses {
			if !declared[c] {
				t.Errorf("%s: metric(%s, _) is never asked: declare it in a -metric attribute of %s.erl", module, c, module)
			}
		}
	}
}

func TestCatalogCoversWhitelists(t *testing.T) {
	names := map[string][]string{}
	for _, e := range Catalog() {
		names[e.Name] = e.Params
	}
	for _, must := range []string{"mongoose_graphql_handler", "mod_bosh", "mongoose_admin_api", "mod_http_api"} {
		found := false
		for _, p := range names[HTTPAPI] {
			found = found || p == must
		}
		if !found {
			t.Errorf("http_api params miss %s", must)
		}
	}
}
