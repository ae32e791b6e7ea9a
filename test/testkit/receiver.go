package testkit

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Receiver is a running `mim-metrics-receiver serve`.
type Receiver struct {
	// URL is where it serves --listen: http://127.0.0.1:PORT, or https
	// with --tls-cert.
	URL string
	// Logs holds its JSON log lines and anything else it printed.
	Logs *SyncBuffer

	cmd      *exec.Cmd
	done     chan error
	stopOnce sync.Once
}

// StartReceiver runs `bin serve` on a free loopback port with JSON logs
// and args (the store, the properties...), and waits (60 s at most) until
// it logs where it listens. It is stopped (Stop) when t ends.
func StartReceiver(t testing.TB, bin string, args ...string) *Receiver {
	t.Helper()
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)
	r := &Receiver{Logs: &SyncBuffer{}, done: make(chan error, 1), cmd: exec.Command(bin, args...)}
	r.cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	r.cmd.Stderr = r.Logs
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		sent := false
		for sc.Scan() {
			_, _ = r.Logs.Write(append(sc.Bytes(), '\n'))
			var l struct{ Msg, Address, Serves string }
			if !sent && json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "listening" && l.Serves == "listen" {
				addr <- l.Address
				sent = true
			}
		}
		r.done <- r.cmd.Wait()
	}()
	t.Cleanup(func() { r.Stop(t) })
	scheme := "http"
	if slices.Contains(args, "--tls-cert") {
		scheme = "https"
	}
	select {
	case a := <-addr:
		r.URL = scheme + "://" + a
		return r
	case err := <-r.done:
		r.done <- err
		t.Fatalf("the receiver exited at start: %v\n%s", err, r.Logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the receiver does not listen after 60 s:\n%s", r.Logs.String())
	}
	return nil
}

// Signal sends sig to the receiver (SIGHUP: reload its certificates).
func (r *Receiver) Signal(sig os.Signal) error { return r.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and fails t unless the receiver exits 0 within 30 s
// (it is killed then). Only the first call does anything.
func (r *Receiver) Stop(t testing.TB) {
	r.stopOnce.Do(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("the receiver's exit after SIGTERM: %v\n%s", err, r.Logs.String())
			}
		case <-time.After(30 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
			t.Errorf("the receiver did not exit within 30 s of SIGTERM:\n%s", r.Logs.String())
		}
	})
}
