package erltest

// Real ejabberd (Debian's package, 23.01 in CI) for tests.
//
// How it is launched: not through ejabberdctl. As root, ejabberdctl re-runs
// itself with `su ejabberd`, which resets HOME (so the cookie comes from
// /var/lib/ejabberd/.erlang.cookie), needs every file of the instance to be
// readable by user ejabberd, and as any other user it refuses to run at all
// (exit 7); its `stopped` command also runs `epmd -kill` when no node is
// left, which would kill the harness's private EPMD. So StartEjabberd runs
// erl itself with the parameters `ejabberdctl foreground` uses:
//
//	erl -sname ejabberd_<hex>@localhost -setcookie <cookie> -noinput -start_epmd false \
//	    -kernel inet_dist_use_interface '{127,0,0,1}' +P 250000 \
//	    -pa <dir>/ebin -mnesia dir '"<dir>/spool"' -s ejabberd
//
// in the working directory <dir>/spool, with the environment
//
//	HOME=<dir> EJABBERD_CONFIG_PATH=<dir>/ejabberd.yml EJABBERD_LOG_PATH=<dir>/logs/ejabberd.log
//	ERL_LIBS=<from ejabberdctl, /usr/lib/x86_64-linux-gnu> ERL_INETRC=<dir>/inetrc
//	ERL_CRASH_DUMP=<dir>/logs/erl_crash.dump ERL_CRASH_DUMP_BYTES=0
//	CONTRIB_MODULES_PATH=<dir>/contrib ERL_MAX_PORTS=32000 ERL_MAX_ETS_TABLES=1400
//	ERL_EPMD_PORT=<private EPMD> ERL_EPMD_ADDRESS=127.0.0.1
//
// It runs as the calling user (root in CI, anyone on a laptop), touches
// nothing under /etc/ejabberd or /var/lib/ejabberd, and is a child process
// in its own process group, so Stop can always kill it. An ejabberdctl.cfg
// is still written to <dir> for humans debugging a kept instance (see
// EjabberdOptions.KeepDir and (*Ejabberd).CtlCommand).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// The two virtual hosts of the test config. They are sentinels: no report
// may ever contain them.
const (
	EjabberdHost1 = "sentinel-ejab-7f3a.example"
	EjabberdHost2 = "sentinel-ejab2-7f3a.example"
	// EjabberdComponentHost is the external component (ejabberd_service) domain.
	EjabberdComponentHost = "component.sentinel-ejab-7f3a.example"
	// EjabberdCustomModule is a module that is not part of ejabberd, loaded on
	// EjabberdHost1 only (source in test/ejabberd/). Its name is a sentinel.
	EjabberdCustomModule = "mod_sentinel_ejab_custom_7f3a"
)

// EjabberdAvailable reports whether Debian's ejabberd and Erlang are
// installed (ejabberdctl, erl, erlc, epmd and the ejabberd application).
func EjabberdAvailable() bool {
	if !Available() {
		return false
	}
	if _, err := exec.LookPath("ejabberdctl"); err != nil {
		if _, err := os.Stat("/usr/sbin/ejabberdctl"); err != nil {
			return false
		}
	}
	_, err := ejabberdLibs()
	return err == nil
}

// EjabberdOptions says how to start ejabberd. The zero value is the
// standard test instance.
type EjabberdOptions struct {
	Alive  string // the part before @localhost; UniqueName("ejabberd") when empty
	Cookie string // RandomCookie() when empty

	// ConfigTemplate is a text/template for ejabberd.yml (fields: see
	// EjabberdConfig); test/ejabberd/ejabberd.yml.tmpl when empty.
	ConfigTemplate string
	// NoCustomModule leaves EjabberdCustomModule out of the config (it is
	// still compiled and on the code path).
	NoCustomModule bool
	// ExtraHosts are more virtual hosts, v1. to vN.EjabberdHost2 (sentinel
	// names), each with the common modules.
	ExtraHosts int
	// Paths are more code paths (-pa) for the node.
	Paths []string
	// StartTimeout bounds the wait for ejabberd to be fully started; 3 minutes
	// when zero.
	StartTimeout time.Duration
	// KeepDir keeps the instance directory after Stop (for debugging).
	KeepDir bool
	// DistArgs are erl arguments of distribution (e.g. -proto_dist
	// inet_tls -ssl_dist_optfile FILE), given to the node and to the
	// helpers that wait for it and run CtlCommand. Eval cannot reach a
	// node of TLS distribution.
	DistArgs []string
}

// EjabberdConfig is what the config template sees.
type EjabberdConfig struct {
	Hosts           []string // EjabberdHost1, EjabberdHost2
	C2SPort         int      // ejabberd_c2s, starttls
	HTTPPort        int      // ejabberd_http: /bosh, /ws, /api
	ServicePort     int      // ejabberd_service (XEP-0114)
	ComponentHost   string   // EjabberdComponentHost
	ServicePassword string
	CertFile        string // self-signed certificate and key (PEM)
	CustomModule    string // EjabberdCustomModule, or "" with NoCustomModule
	Dir             string // the instance directory
}

// Ejabberd is a running ejabberd node.
type Ejabberd struct {
	name   string
	cookie string
	dir    string
	opts   EjabberdOptions
	// Config is what the config was rendered from (ports, hosts, paths).
	Config EjabberdConfig
	// StartDuration is how long the last start took until ejabberd was
	// fully started.
	StartDuration time.Duration

	mu      sync.Mutex
	cmd     *exec.Cmd
	out     *bytes.Buffer
	exited  chan struct{}
	stopped bool
}

var (
	ejabMu      sync.Mutex
	ejabStarted []*Ejabberd
)

// CleanupEjabberd stops every ejabberd started by StartEjabberd and removes
// their directories. Call it from TestMain before Cleanup (which stops the
// private EPMD).
func CleanupEjabberd() {
	ejabMu.Lock()
	all := ejabStarted
	ejabStarted = nil
	ejabMu.Unlock()
	for _, e := range all {
		e.Stop()
	}
}

// StartEjabberd starts ejabberd in a fresh temporary directory and waits
// until it is fully started. On failure everything is cleaned up and the
// error carries the tail of the logs.
func StartEjabberd(opts EjabberdOptions) (*Ejabberd, error) {
	if _, err := StartEPMD(); err != nil {
		return nil, err
	}
	if opts.Alive == "" {
		opts.Alive = UniqueName("ejabberd")
	}
	if opts.Cookie == "" {
		opts.Cookie = RandomCookie()
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 3 * time.Minute
	}
	dir, err := os.MkdirTemp("", "erltest-ejabberd-")
	if err != nil {
		return nil, err
	}
	e := &Ejabberd{name: opts.Alive + "@localhost", cookie: opts.Cookie, dir: dir, opts: opts}
	if err := e.prepare(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ejabMu.Lock()
	ejabStarted = append(ejabStarted, e)
	ejabMu.Unlock()
	if err := e.start(); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// Name is the node name, e.g. ejabberd_1a2b3c@localhost.
func (e *Ejabberd) Name() string { return e.name }

// Cookie is the node's cookie (also in Dir()/.erlang.cookie).
func (e *Ejabberd) Cookie() string { return e.cookie }

// Dir is the instance directory: ejabberd.yml, ejabberdctl.cfg, cert.pem,
// inetrc, .erlang.cookie, ebin/, spool/ (Mnesia), logs/.
func (e *Ejabberd) Dir() string { return e.dir }

// LogPath is ejabberd's log file.
func (e *Ejabberd) LogPath() string { return filepath.Join(e.dir, "logs", "ejabberd.log") }

// Output returns what the node printed on stdout/stderr since its last start.
func (e *Ejabberd) Output() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.out == nil {
		return ""
	}
	w := e.cmd.Stdout.(*syncWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return e.out.String()
}

// LogTail returns the last n lines of ejabberd.log, then of erl's own
// output, for failure messages.
func (e *Ejabberd) LogTail(n int) string {
	var b strings.Builder
	if data, err := os.ReadFile(e.LogPath()); err == nil {
		fmt.Fprintf(&b, "--- %s (last %d lines):\n%s", e.LogPath(), n, tailLines(string(data), n))
	}
	if out := e.Output(); out != "" {
		fmt.Fprintf(&b, "\n--- erl output (last %d lines):\n%s", n, tailLines(out, n))
	}
	return b.String()
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n") + "\n"
}

// Pid is the OS pid of the node's beam process, 0 when it is not running.
func (e *Ejabberd) Pid() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cmd == nil || e.exited == nil {
		return 0
	}
	select {
	case <-e.exited:
		return 0
	default:
		return e.cmd.Process.Pid
	}
}

// Eval runs Erlang expressions on the node, like Node.Eval, and returns
// what the result printed with ~p.
func (e *Ejabberd) Eval(ctx context.Context, expr string) (string, error) {
	n := &Node{Name: e.name, Cookie: e.cookie}
	return n.Eval(ctx, expr)
}

// CtlCommand returns a command that runs an ejabberdctl command (e.g.
// "status", "registered_vhosts") against the node the way ejabberdctl does,
// without ejabberdctl's su.
func (e *Ejabberd) CtlCommand(ctx context.Context, args ...string) *exec.Cmd {
	a := []string{"-sname", UniqueName("ctl") + "@localhost", "-setcookie", e.cookie, "-hidden", "-noinput",
		"-start_epmd", "false", "-kernel", "inet_dist_use_interface", "{127,0,0,1}",
		"-s", "ejabberd_ctl"}
	a = append(append(a, e.opts.DistArgs...), "-extra", e.name)
	cmd := exec.CommandContext(ctx, "erl", append(a, args...)...)
	cmd.Env = e.env()
	cmd.Dir = filepath.Join(e.dir, "spool")
	return cmd
}

// Stop stops ejabberd: SIGTERM to beam (OTP turns it into init:stop(), so
// Mnesia closes cleanly), then after at most 20s SIGKILL to the whole
// process group. It waits for the process and until the node has left
// EPMD, then removes the directory unless KeepDir. Stop is idempotent.
func (e *Ejabberd) Stop() {
	e.halt()
	e.mu.Lock()
	already := e.stopped
	e.stopped = true
	e.mu.Unlock()
	ejabMu.Lock()
	for i, x := range ejabStarted {
		if x == e {
			ejabStarted = append(ejabStarted[:i], ejabStarted[i+1:]...)
			break
		}
	}
	ejabMu.Unlock()
	if !already && !e.opts.KeepDir {
		os.RemoveAll(e.dir)
	}
}

// halt stops the process and waits for it and for EPMD to forget it.
func (e *Ejabberd) halt() {
	e.mu.Lock()
	cmd, exited := e.cmd, e.exited
	e.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-exited:
	default:
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
		}
	}
	// Kill whatever is left in the group (beam, erl_child_setup,
	// inet_gethost) even when beam itself is gone.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
	alive := e.opts.Alive
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if names, err := EPMDNames(); err != nil || !strings.Contains(names, "name "+alive+" at port") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart stops ejabberd cleanly and starts it again under the same name,
// with the same config, ports and Mnesia directory, and waits until it is
// fully started. After Stop it works only with KeepDir.
func (e *Ejabberd) Restart() error {
	e.mu.Lock()
	stopped := e.stopped
	e.mu.Unlock()
	if stopped && !e.opts.KeepDir {
		return errors.New("ejabberd: Restart after Stop (directory removed)")
	}
	e.halt()
	return e.start()
}

// ejabberdLibs finds ERL_LIBS as ejabberdctl sets it, checking that the
// ejabberd application is there.
func ejabberdLibs() (string, error) {
	libs := ""
	ctl, err := exec.LookPath("ejabberdctl")
	if err != nil {
		ctl = "/usr/sbin/ejabberdctl" // not on a non-root PATH
	}
	if data, err := os.ReadFile(ctl); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if v, ok := strings.CutPrefix(l, "ERL_LIBS="); ok {
				libs = strings.Trim(v, `'"`)
				break
			}
		}
	}
	if libs == "" {
		libs = "/usr/lib/" + map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH] + "-linux-gnu"
	}
	for _, d := range filepath.SplitList(libs) {
		if m, _ := filepath.Glob(filepath.Join(d, "ejabberd-*", "ebin", "ejabberd.app")); len(m) > 0 {
			return libs, nil
		}
	}
	if m, _ := filepath.Glob("/usr/lib/erlang/lib/ejabberd-*/ebin/ejabberd.app"); len(m) > 0 {
		return "", nil // in the OTP root: no ERL_LIBS needed
	}
	return "", fmt.Errorf("ejabberd application not found (ERL_LIBS=%q)", libs)
}

// ejabberdTemplateDir is test/ejabberd, next to this package.
func ejabberdTemplateDir() string {
	_, file, _, ok := runtime.Caller(0)
	if ok {
		d := filepath.Join(filepath.Dir(file), "..", "ejabberd")
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	return filepath.Join("..", "ejabberd") // tests run in their package directory
}

func (e *Ejabberd) env() []string {
	libs, _ := ejabberdLibs()
	d := e.dir
	return append(os.Environ(),
		"HOME="+d,
		"EJABBERD_CONFIG_PATH="+filepath.Join(d, "ejabberd.yml"),
		"EJABBERD_LOG_PATH="+e.LogPath(),
		"EJABBERD_PID_PATH=",
		"ERL_LIBS="+libs,
		"ERL_INETRC="+filepath.Join(d, "inetrc"),
		"ERL_CRASH_DUMP="+filepath.Join(d, "logs", "erl_crash.dump"),
		"ERL_CRASH_DUMP_BYTES=0",
		"CONTRIB_MODULES_PATH="+filepath.Join(d, "contrib"),
		"CONTRIB_MODULES_CONF_DIR="+filepath.Join(d, "contrib", "conf"),
		"ERL_MAX_PORTS=32000",
		"ERL_MAX_ETS_TABLES="+strconv.Itoa(1400+50*e.opts.ExtraHosts),
		"ERL_EPMD_PORT="+strconv.Itoa(epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
	)
}

// prepare writes the instance directory.
func (e *Ejabberd) prepare() error {
	d := e.dir
	for _, sub := range []string{"spool", "logs", "ebin", "contrib"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o700); err != nil {
			return err
		}
	}
	tdir := ejabberdTemplateDir()
	if err := Compile(tdir, filepath.Join(d, "ebin")); err != nil {
		return fmt.Errorf("ejabberd custom module: %w", err)
	}
	if err := os.WriteFile(filepath.Join(d, ".erlang.cookie"), []byte(e.cookie), 0o400); err != nil {
		return err
	}
	inetrc := "{lookup,[\"file\",\"native\"]}.\n{host,{127,0,0,1},[\"localhost\"]}.\n"
	if err := os.WriteFile(filepath.Join(d, "inetrc"), []byte(inetrc), 0o644); err != nil {
		return err
	}
	cert := filepath.Join(d, "cert.pem")
	if err := writeSelfSigned(cert, EjabberdHost1, EjabberdHost2, "*."+EjabberdHost1, "*."+EjabberdHost2, "localhost"); err != nil {
		return fmt.Errorf("ejabberd certificate: %w", err)
	}
	c := EjabberdConfig{
		Hosts:           []string{EjabberdHost1, EjabberdHost2},
		ComponentHost:   EjabberdComponentHost,
		ServicePassword: RandomCookie(),
		CertFile:        cert,
		CustomModule:    EjabberdCustomModule,
		Dir:             d,
	}
	if e.opts.NoCustomModule {
		c.CustomModule = ""
	}
	for i := 1; i <= e.opts.ExtraHosts; i++ {
		c.Hosts = append(c.Hosts, fmt.Sprintf("v%d.%s", i, EjabberdHost2))
	}
	ports := map[int]bool{}
	for _, p := range []*int{&c.C2SPort, &c.HTTPPort, &c.ServicePort} {
		for {
			port, err := testkit.FreePort()
			if err != nil {
				return err
			}
			if !ports[port] {
				ports[port], *p = true, port
				break
			}
		}
	}
	e.Config = c
	tmplPath := e.opts.ConfigTemplate
	if tmplPath == "" {
		tmplPath = filepath.Join(tdir, "ejabberd.yml.tmpl")
	}
	t, err := template.New(filepath.Base(tmplPath)).Option("missingkey=error").ParseFiles(tmplPath)
	if err != nil {
		return err
	}
	var yml bytes.Buffer
	if err := t.Execute(&yml, c); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d, "ejabberd.yml"), yml.Bytes(), 0o600); err != nil {
		return err
	}
	// For humans only: `ejabberdctl -c <dir>/ejabberdctl.cfg status` (as root;
	// EXEC_CMD skips ejabberdctl's su, the cfg is sourced after that choice).
	ctl := fmt.Sprintf(`# written by erltest.StartEjabberd; not used to start the node
EXEC_CMD=as_current_user
ERLANG_NODE=%s
INET_DIST_INTERFACE=127.0.0.1
ERL_EPMD_ADDRESS=127.0.0.1
export ERL_EPMD_PORT=%d
export HOME=%s
EJABBERD_CONFIG_PATH=%s
SPOOL_DIR=%s
LOGS_DIR=%s
CONFIG_DIR=%s
`, e.name, epmdPort, d, filepath.Join(d, "ejabberd.yml"), filepath.Join(d, "spool"), filepath.Join(d, "logs"), d)
	return os.WriteFile(filepath.Join(d, "ejabberdctl.cfg"), []byte(ctl), 0o644)
}

// writeSelfSigned writes a self-signed ECDSA certificate for names and its
// key into one PEM file, as ejabberd's certfiles wants.
func writeSelfSigned(path string, names ...string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour), // ejabberd warns under 30 days
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	_ = pem.Encode(&b, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	return os.WriteFile(path, b.Bytes(), 0o600)
}

func (e *Ejabberd) start() error {
	began := time.Now()
	d := e.dir
	args := []string{"-sname", e.name, "-setcookie", e.cookie, "-noinput", "-start_epmd", "false",
		"-kernel", "inet_dist_use_interface", "{127,0,0,1}", "+P", "250000",
		"-pa", filepath.Join(d, "ebin")}
	args = append(args, e.opts.DistArgs...)
	for _, p := range e.opts.Paths {
		args = append(args, "-pa", p)
	}
	args = append(args, "-mnesia", "dir", `"`+filepath.Join(d, "spool")+`"`, "-s", "ejabberd")
	cmd := exec.Command("erl", args...)
	cmd.Env = e.env()
	cmd.Dir = filepath.Join(d, "spool")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // die with the test binary
	out := &bytes.Buffer{}
	cmd.Stdout = &syncWriter{w: out}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ejabberd %s: %w", e.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	e.mu.Lock()
	e.cmd, e.out, e.exited = cmd, out, exited
	e.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), e.opts.StartTimeout)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := e.waitStarted(ctx)
	select {
	case <-exited:
		return fmt.Errorf("ejabberd %s exited at start (%v)\n%s", e.name, err, e.LogTail(40))
	default:
	}
	if err != nil {
		return fmt.Errorf("ejabberd %s not started within %s: %v\n%s", e.name, e.opts.StartTimeout, err, e.LogTail(40))
	}
	e.StartDuration = time.Since(began)
	return nil
}

// waitStarted runs one hidden helper node that polls the ejabberd node
// until init has finished booting and the ejabberd application runs (what
// `ejabberdctl status` checks), or ejabberd failed to start.
func (e *Ejabberd) waitStarted(ctx context.Context) error {
	script := fmt.Sprintf(`
N = '%s',
Check = fun() ->
    case net_adm:ping(N) of
        pang -> wait;
        pong ->
            case rpc:call(N, init, get_status, [], 5000) of
                {started, _} ->
                    case rpc:call(N, application, which_applications, [], 5000) of
                        L when is_list(L) ->
                            case lists:keymember(ejabberd, 1, L) of
                                true -> ok;
                                false -> {error, ejabberd_not_running}
                            end;
                        Other -> {error, Other}
                    end;
                _ -> wait
            end
    end
end,
Loop = fun Loop() ->
    case Check() of
        wait -> timer:sleep(100), Loop();
        {error, _} = Err ->
            timer:sleep(300),
            case Check() of
                ok -> io:format("started~n");
                _ -> io:format("failed: ~p~n", [Err])
            end;
        ok -> io:format("started~n")
    end
end,
Loop(),
halt().`, e.name)
	args := append([]string{"-sname", UniqueName("wait") + "@localhost", "-setcookie", e.cookie,
		"-noinput", "-hidden", "-start_epmd", "false", "-kernel", "inet_dist_use_interface", "{127,0,0,1}"}, e.opts.DistArgs...)
	cmd := exec.CommandContext(ctx, "erl", append(args, "-eval", script)...)
	cmd.Env = e.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // die with the test binary
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("wait helper: %v: %s", err, s)
	}
	if s != "started" {
		return errors.New(s)
	}
	return nil
}
