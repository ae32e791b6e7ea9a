package reporting

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// memberWatch tells the operator, once per change, that a member the
// cluster records is not running (a warning), and that it runs again (an
// info line). A member that leaves the cluster is forgotten without a
// word: it is no longer a member.
type memberWatch struct {
	mu            sync.Mutex
	lastCollected map[string]time.Time // per member, when a cycle last collected it
	down          map[string]bool      // the members the operator was told are down
}

// neverCollected is what the warning says of a member no cycle of this
// run has collected.
const neverCollected = "never since the sidecar started"

// check looks at a cycle's reports, made at now.
func (w *memberWatch) check(log *zap.Logger, now time.Time, reports []metrics.NodeReport) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lastCollected == nil {
		w.lastCollected, w.down = map[string]time.Time{}, map[string]bool{}
	}
	members := map[string]bool{}
	for _, r := range reports {
		members[r.Node] = true
		switch {
		case r.Err == nil:
			if w.down[r.Node] {
				delete(w.down, r.Node)
				log.Info(fmt.Sprintf("%s is running again: it was collected", r.Node),
					zap.String("what", "member_up"), zap.String("node", r.Node))
			}
			w.lastCollected[r.Node] = now
		case r.Down && !w.down[r.Node]:
			w.down[r.Node] = true
			last := neverCollected
			if t, ok := w.lastCollected[r.Node]; ok {
				last = t.UTC().Format(time.RFC3339)
			}
			log.Warn(fmt.Sprintf("%s is a member of the cluster but not running: last collected %s", r.Node, last),
				zap.String("what", "member_down"), zap.String("node", r.Node), zap.Error(r.Err))
		}
	}
	// The members are the cluster's record as a node that answered gave
	// it: a cycle where none answered (a seed busy past its time limit)
	// says nothing of who left, and forgets no one (else a member still
	// down would be told about again).
	answered := false
	for _, r := range reports {
		answered = answered || r.Err == nil
	}
	if !answered {
		return
	}
	for n := range w.lastCollected {
		if !members[n] {
			delete(w.lastCollected, n)
		}
	}
	for n := range w.down {
		if !members[n] {
			delete(w.down, n)
		}
	}
}
