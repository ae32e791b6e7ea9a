package reporting

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

func TestLocalClusterIDPersists(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state", "nested")
	id, err := localClusterID(dir)
	if err != nil {
		t.Fatal(err)
	}
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 4 {
		t.Errorf("id %q is not a v4 UUID (%v)", id, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "cluster_id"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := localClusterID(dir)
	if err != nil || again != id {
		t.Errorf("second read = %q, %v; want %q", again, err, id)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only cluster_id", len(entries))
	}
}

func TestLocalClusterIDCorruptFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster_id"), []byte("not a uuid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := localClusterID(dir); err == nil || !strings.Contains(err.Error(), "does not hold a UUID") {
		t.Errorf("err = %v", err)
	}
}

func TestCheckStateDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new")
	if err := CheckStateDir(dir); err != nil {
		t.Fatalf("CheckStateDir(%s): %v", dir, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("check left %d files behind", len(entries))
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(file, "state")
	err := CheckStateDir(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "\n") {
		t.Errorf("CheckStateDir(%s) = %v; want a one-line error naming the dir", bad, err)
	}
	if _, err := localClusterID(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("localClusterID(%s) = %v; want an error naming the dir", bad, err)
	}
}

func TestClusterIDChoice(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, _ := observed()
	src := &fakeSource{reports: []metrics.NodeReport{mimReport("mim@h")}}
	cfg := testConfig(t, src, ga.URL, log)

	// No Cluster ID in the cluster: a local one, kept across restarts.
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil || !res.LocalClusterID {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	local := res.ClientID
	res, err = newService(t, cfg).RunOnce(context.Background())
	if err != nil || res.ClientID != local {
		t.Errorf("after a restart the client id is %q, want %q (%v)", res.ClientID, local, err)
	}

	// The cluster's own Cluster ID wins when there is one.
	src.mu.Lock()
	src.clusterID = "ephemeral-0f9c3a1e-6d2b-4c8e-9a51-3b7e2d4c5f60"
	src.mu.Unlock()
	s := newService(t, cfg)
	res, err = s.RunOnce(context.Background())
	if err != nil || res.ClientID != src.clusterID || res.LocalClusterID {
		t.Errorf("RunOnce = %+v, %v; want the cluster's id", res, err)
	}

	// A transient failure to read it reuses the last one instead of
	// switching identity.
	src.mu.Lock()
	src.idErr = errors.New("rpc timeout")
	src.mu.Unlock()
	res, err = s.RunOnce(context.Background())
	if err != nil || res.ClientID != src.clusterID {
		t.Errorf("RunOnce = %+v, %v; want the last cluster id", res, err)
	}
	// A fresh service has no last id: the cycle fails and sends nothing.
	before := ga.RequestCount()
	if _, err := newService(t, cfg).RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "rpc timeout") {
		t.Errorf("RunOnce error = %v, want the RPC error", err)
	}
	if ga.RequestCount() != before {
		t.Error("something was sent without a client id")
	}
	got := ga.ClientIDs()
	if len(got) != 2 {
		t.Errorf("client ids seen: %v", got)
	}
}
