// Package deploy_test checks the shipped deployment files against the
// program: the compose file, the Dockerfile and the systemd unit. There is
// no Docker engine where these tests run, so they check what can be
// checked without one: the files parse, and every command line and
// environment variable in them is one the program accepts.
package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/test/testkit"

	"gopkg.in/yaml.v3"
)

var (
	root string // the repository
	bin  string // mim-metrics built for these tests
)

func TestMain(m *testing.M) {
	code := func() int {
		wd, _ := os.Getwd()
		root = filepath.Join(wd, "..", "..")
		dir, err := os.MkdirTemp("", "mim-metrics-deploy")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if bin, err = testkit.Build(dir, "./cmd/mim-metrics"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// accepts runs the program with args and --no-report, which parses and
// checks every flag, then exits 0 without connecting anywhere.
func accepts(t *testing.T, args []string, env ...string) {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--no-report")...)
	cmd.Env = append([]string{"HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("mim-metrics %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// knownEnv lists the MIM_METRICS_ variables --help documents.
func knownEnv(t *testing.T) map[string]bool {
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	set := map[string]bool{}
	for _, m := range regexp.MustCompile(`\[(MIM_METRICS_[A-Z_]+)\]`).FindAllStringSubmatch(string(out), -1) {
		set[m[1]] = true
	}
	if len(set) < 10 {
		t.Fatalf("--help lists only %d variables:\n%s", len(set), out)
	}
	return set
}

type compose struct {
	Services map[string]struct {
		Image       string
		Hostname    string
		Entrypoint  []string
		Build       struct{ Context, Dockerfile string }
		Command     []string
		Environment map[string]string
		Secrets     []string
		Volumes     []string
	}
	Secrets map[string]struct{ File string }
}

func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	mim, ok := c.Services["mongooseim-1"]
	if !ok {
		t.Fatalf("no mongooseim-1 service: %v", c.Services)
	}
	if !regexp.MustCompile(`^mongooseim/mongooseim:6\.\d+\.\d+$`).MatchString(mim.Image) {
		t.Errorf("MongooseIM image %q: want the public mongooseim/mongooseim image at a 6.x tag", mim.Image)
	}
	mm, ok := c.Services["mim-metrics"]
	if !ok {
		t.Fatal("no mim-metrics service")
	}
	if mm.Build.Context != "." || mm.Build.Dockerfile != "Dockerfile" {
		t.Errorf("mim-metrics builds from %+v, want this repository's Dockerfile", mm.Build)
	}
	if _, err := os.Stat(filepath.Join(root, mm.Build.Context, mm.Build.Dockerfile)); err != nil {
		t.Error(err)
	}
	// The command line is one the program accepts, and names the
	// MongooseIM node by its real node name.
	accepts(t, mm.Command)
	wantNode := "--node=mongooseim@" + mim.Hostname
	if !contains(mm.Command, wantNode) {
		t.Errorf("command %v does not name the node %s (the image names it mongooseim@<short host name>)", mm.Command, wantNode)
	}
	// The cookie comes from the compose secret, in both containers.
	sec, ok := c.Secrets["erlang_cookie"]
	if !ok || sec.File == "" {
		t.Fatalf("no erlang_cookie secret from a file: %+v", c.Secrets)
	}
	if !contains(mm.Secrets, "erlang_cookie") || !contains(mim.Secrets, "erlang_cookie") {
		t.Errorf("both services must mount the erlang_cookie secret: %v, %v", mim.Secrets, mm.Secrets)
	}
	if !contains(mm.Command, "--cookie-file=/run/secrets/erlang_cookie") {
		t.Errorf("mim-metrics does not read the cookie from the secret: %v", mm.Command)
	}
	ignore, _ := os.ReadFile(filepath.Join(root, ".gitignore"))
	if !strings.Contains(string(ignore), strings.TrimPrefix(sec.File, "./")) {
		t.Errorf("the cookie file %s is not in .gitignore", sec.File)
	}
	for _, bad := range []string{"setcookie", "MIM_METRICS_COOKIE:", "CLUSTER_COOKIE"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("the compose file writes a cookie itself (%s)", bad)
		}
	}
	// Environment names are the program's.
	known := knownEnv(t)
	for k := range mm.Environment {
		if !known[k] {
			t.Errorf("environment %s is not a mim-metrics setting", k)
		}
	}
	for _, m := range regexp.MustCompile(`#\s*(MIM_METRICS_[A-Z_]+):`).FindAllStringSubmatch(string(raw), -1) {
		if !known[m[1]] {
			t.Errorf("commented example %s is not a mim-metrics setting", m[1])
		}
	}
	// MongooseIM's own service must not report too.
	toml, err := os.ReadFile(filepath.Join(root, "deploy", "mongooseim", "mongooseim.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\[services\.service_mongoose_system_metrics\]\n(?:\s*#.*\n)*\s*report = false`).Match(toml) {
		t.Error("deploy/mongooseim/mongooseim.toml does not set report = false in the built-in service")
	}
	entry, _ := os.ReadFile(filepath.Join(root, "deploy", "mongooseim", "entrypoint.sh"))
	vmArgs, _ := os.ReadFile(filepath.Join(root, "deploy", "mongooseim", "vm.args"))
	if !strings.Contains(string(entry), "/run/secrets/erlang_cookie") || !strings.Contains(string(vmArgs), "-setcookie @ERLANG_COOKIE@") {
		t.Error("MongooseIM does not get its cookie from the secret")
	}
	if len(mim.Entrypoint) != 2 || mim.Entrypoint[1] != "/deploy/entrypoint.sh" || !contains(mim.Volumes, "./deploy/mongooseim:/deploy:ro") {
		t.Errorf("MongooseIM entrypoint %v / volumes %v do not run deploy/mongooseim/entrypoint.sh", mim.Entrypoint, mim.Volumes)
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(s, -1)); n < 2 {
		t.Errorf("%d stages, want a multi-stage build", n)
	}
	if !strings.Contains(s, "CGO_ENABLED=0") {
		t.Error("the binary is not built static (CGO_ENABLED=0)")
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindStringSubmatch(s)
	if user == nil || strings.HasPrefix(user[1], "root") || user[1] == "0" {
		t.Errorf("runs as %v, want a non-root user", user)
	}
	if !strings.Contains(s, `ENTRYPOINT ["mim-metrics"]`) {
		t.Error(`no ENTRYPOINT ["mim-metrics"]`)
	}
	known := knownEnv(t)
	for _, m := range regexp.MustCompile(`(MIM_METRICS_[A-Z_]+)=`).FindAllStringSubmatch(s, -1) {
		if !known[m[1]] {
			t.Errorf("ENV %s is not a mim-metrics setting", m[1])
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "contrib", "mim-metrics.service"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	exec := regexp.MustCompile(`(?m)^ExecStart=(\S+) (.*)$`).FindStringSubmatch(s)
	if exec == nil {
		t.Fatal("no ExecStart")
	}
	args := strings.Fields(strings.ReplaceAll(exec[2], "%l", "mimhost"))
	accepts(t, args)
	if !regexp.MustCompile(`(?m)^User=mim-metrics$`).MatchString(s) {
		t.Error("the unit does not run as its own user")
	}
	if !contains(args, "--cookie-file") || !strings.Contains(s, "-o mim-metrics -g mim-metrics -m 0400") {
		t.Error("the cookie is not read from a file owned by the unit's user")
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
