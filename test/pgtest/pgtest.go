// Package pgtest runs a real PostgreSQL server for tests: initdb and
// postgres in a temporary directory, as Debian's postgres user when the
// tests run as root, listening on a free loopback port only.
//
// Use it from TestMain, so that the server is stopped also after a failed
// test:
//
//	var pg *pgtest.Server
//
//	func TestMain(m *testing.M) { pgtest.Main(m, &pg) }
//
//	func TestX(t *testing.T) { url := pg.NewDatabase(t); ... }
//
// Without PostgreSQL installed, NewDatabase fails the test under CI=true
// (CI installs it) and skips it elsewhere.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// ErrNotInstalled is returned by Start when no PostgreSQL server binaries
// are found.
var ErrNotInstalled = errors.New("PostgreSQL not installed (initdb, pg_ctl, postgres): CI must install Debian's postgresql")

// Deadlines of the server's steps, generous for a loaded machine.
const (
	initTimeout  = 2 * time.Minute
	startTimeout = time.Minute
	stopTimeout  = time.Minute
	// staleAfter: a server directory without a running server this old is
	// left over from a killed test binary.
	staleAfter = time.Hour
)

// Server is one running PostgreSQL server.
type Server struct {
	bin  string // the directory of initdb, pg_ctl, postgres
	dir  string // the temporary directory: data/ and the socket
	port int
	cred *syscall.Credential // who runs the server; nil: this process's user

	mu   sync.Mutex
	proc *exec.Cmd     // the postmaster, nil when paused or stopped
	done chan struct{} // closed when proc has exited

	databases atomic.Int64
}

// Main is TestMain's body: it starts a server into *srv (left nil when
// PostgreSQL is not installed), runs the tests, stops the server and
// exits. A server that is installed but does not start fails the run.
func Main(m *testing.M, srv **Server) {
	s, err := Start()
	if err != nil && !errors.Is(err, ErrNotInstalled) {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
	*srv = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// Start initialises a data directory and starts a server on a free
// loopback port.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	removeStale()
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user (Debian's postgresql package makes it): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, err
	}
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			s.cleanup()
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	initdb := s.command(ctx, "initdb", "-D", s.dataDir(), "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		s.cleanup()
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	// A port that was free may be taken before postgres binds it: retry.
	for attempt := 0; ; attempt++ {
		if s.port, err = testkit.FreePort(); err != nil {
			s.cleanup()
			return nil, err
		}
		if err = s.start(); err == nil {
			return s, nil
		}
		if attempt == 2 {
			s.cleanup()
			return nil, err
		}
	}
}

// removeStale removes the directories of servers whose test binary was
// killed (the postmaster died with it, Pdeathsig, but its files stay): one
// whose postmaster.pid names no process, or without a postmaster.pid (a
// server stops that way, and a paused one too: so only after staleAfter).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pgtest-*"))
	for _, dir := range dirs {
		info, err := os.Stat(dir)
		if err != nil || time.Since(info.ModTime()) < initTimeout {
			continue
		}
		pid, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
		if err != nil {
			if time.Since(info.ModTime()) > staleAfter {
				os.RemoveAll(dir)
			}
			continue
		}
		n, err := strconv.Atoi(string(bytes.SplitN(pid, []byte("\n"), 2)[0]))
		if err == nil && errors.Is(syscall.Kill(n, 0), syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}

// binDir finds the server binaries: Debian's PostgreSQL 15, pg_config
// --bindir, the newest /usr/lib/postgresql/N, or PATH.
func binDir() (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return false
			}
		}
		return true
	}
	candidates := []string{"/usr/lib/postgresql/15/bin"}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, string(trimSpace(out)))
	}
	others, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(others)))
	candidates = append(candidates, others...)
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if has(dir) {
			return dir, nil
		}
	}
	return "", ErrNotInstalled
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// command runs one of the server's binaries as the server's user.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

// start runs the postmaster as our child (not daemonised by pg_ctl, so
// that it dies with the test binary even when the binary is killed:
// Pdeathsig) and waits until it accepts connections.
func (s *Server) start() error {
	cmd := s.command(context.Background(), "postgres", "-D", s.dataDir(),
		"-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.dir,
		"-c", "max_connections=200",
		"-c", "log_min_messages=warning")
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	log, err := os.Create(filepath.Join(s.dir, "postgres.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.proc, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := pgx.Connect(ctx, s.url("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			s.mu.Lock()
			s.proc = nil
			s.mu.Unlock()
			logText, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
			return fmt.Errorf("postgres exited at start: %s", lastLines(logText, 5))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("postgres on port %d: not ready after %v: %w", s.port, startTimeout, err)
		}
	}
}

func lastLines(b []byte, n int) string {
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' && i != len(b)-1 {
			lines++
			if lines == n {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

func (s *Server) url(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, database)
}

// stop stops the postmaster: pg_ctl stop -m fast, then a kill if it is
// still running after stopTimeout.
func (s *Server) stop() error {
	s.mu.Lock()
	proc, done := s.proc, s.done
	s.proc = nil
	s.mu.Unlock()
	if proc == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	out, err := s.command(ctx, "pg_ctl", "stop", "-D", s.dataDir(), "-m", "fast", "-w").CombinedOutput()
	select {
	case <-done:
	case <-ctx.Done():
		proc.Process.Kill()
		<-done
	}
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, out)
	}
	return nil
}

func (s *Server) cleanup() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// Stop stops the server and removes its files. It does nothing on a nil
// Server (PostgreSQL not installed).
func (s *Server) Stop() {
	if s == nil {
		return
	}
	if err := s.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	s.cleanup()
}

// Pause stops the server (as an outage would); Resume starts it again on
// the same port with the same data.
func (s *Server) Pause() error { return s.stop() }

// Resume restarts a paused server.
func (s *Server) Resume() error {
	s.mu.Lock()
	running := s.proc != nil
	s.mu.Unlock()
	if running {
		return nil
	}
	return s.start()
}

// NewDatabase creates an empty database for t, dropped when t ends, and
// returns its postgres:// URL. On a nil Server it fails t under CI=true
// and skips it elsewhere.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	if s == nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(ErrNotInstalled)
		}
		t.Skip("PostgreSQL not installed")
	}
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.databases.Add(1))
	if err := s.admin(fmt.Sprintf("CREATE DATABASE %s", name)); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if err := s.admin(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	return s.url(name)
}

// CreateDatabase creates an empty database called name (lower-case
// letters, digits and _) and returns its URL: for a program without a
// testing.TB (the receiver benchmark). It lives until the server stops.
func (s *Server) CreateDatabase(name string) (string, error) {
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return "", fmt.Errorf("create database %q: use lower-case letters, digits and _", name)
		}
	}
	if name == "" {
		return "", errors.New("create database: no name")
	}
	if err := s.admin("CREATE DATABASE " + name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.url(name), nil
}

// admin runs one statement in the postgres database.
func (s *Server) admin(statement string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, statement)
	return err
}
