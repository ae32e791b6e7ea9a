package reporting

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// clusterIDFile is the name of the state file holding the local Cluster ID.
const clusterIDFile = "cluster_id"

// CheckStateDir makes sure dir exists (creating it with mode 0700 if needed)
// and that a file can be written in it. The error is one line naming dir, so
// the command can print it and exit early.
func CheckStateDir(dir string) error {
	if dir == "" {
		return errors.New("state directory is not set")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory %s cannot be created: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("state directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	cerr := f.Close()
	rerr := os.Remove(name)
	if cerr != nil || rerr != nil {
		return fmt.Errorf("state directory %s is not usable: %w", dir, errors.Join(cerr, rerr))
	}
	return nil
}

// localClusterID returns the Cluster ID kept in stateDir/cluster_id. On the
// first call for a directory it generates a random (version 4) UUID and
// writes it there atomically with mode 0600; later calls, also after a
// restart, read it back. A file that does not hold a UUID is an error rather
// than silently replaced, because a new ID looks like a new installation.
func localClusterID(stateDir string) (string, error) {
	path := filepath.Join(stateDir, clusterIDFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := strings.TrimSpace(string(data))
		if _, perr := uuid.Parse(id); perr != nil {
			return "", fmt.Errorf("state file %s does not hold a UUID (delete it to generate a new Cluster ID): %w", path, perr)
		}
		return id, nil
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read Cluster ID from %s: %w", path, err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return "", fmt.Errorf("state directory %s cannot be created: %w", stateDir, err)
	}
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generate Cluster ID: %w", err)
	}
	id := u.String()
	if err := writeFileAtomic(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("state directory %s is not writable: %w", stateDir, err)
	}
	return id, nil
}

// clusterIDResolver picks the client id for each cycle: the cluster's own
// Cluster ID when it has one, otherwise the local one from the state dir.
// When the cluster cannot be asked (a transient error), the last ID seen in
// this run is reused so that a hiccup does not switch identities.
type clusterIDResolver struct {
	stateDir  string
	last      string
	lastLocal bool
}

// resolve returns the client id and whether it is the local one.
func (r *clusterIDResolver) resolve(ctx context.Context, src Source) (id string, local bool, err error) {
	id, err = src.ClusterID(ctx)
	switch {
	case err == nil && id != "":
		r.last, r.lastLocal = id, false
		return id, false, nil
	case err == nil || errors.Is(err, ErrNoClusterID):
		id, err = localClusterID(r.stateDir)
		if err != nil {
			return "", true, err
		}
		r.last, r.lastLocal = id, true
		return id, true, nil
	case r.last != "":
		return r.last, r.lastLocal, nil
	default:
		return "", false, fmt.Errorf("read the cluster's Cluster ID: %w", err)
	}
}
