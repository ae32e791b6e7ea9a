package receiver

import (
	"sync"
	"time"

	"go.uber.org/zap"
)

// outageSummaryEvery is how often a summary is logged while the store
// refuses writes.
const outageSummaryEvery = time.Minute

// writeState follows whether the store takes writes (batches and the
// ingest counts' flush), for /healthz and for the logs: an outage is
// logged once when it starts, in a summary a minute while it lasts, and
// once when it ends; not once per refused request.
type writeState struct {
	log *zap.Logger
	mu  sync.Mutex
	// failing since: the first refused write of the outage; zero: writes work.
	since       time.Time
	refused     int64 // writes refused since the last log line
	total       int64 // writes refused in the outage
	lastLog     time.Time
	lastProblem string
}

// failed notes a write the store refused (a temporary failure).
func (s *writeState) failed(now time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused++
	s.total++
	s.lastProblem = err.Error()
	switch {
	case s.since.IsZero():
		s.since, s.lastLog = now, now
		s.log.Warn("the store refuses writes: ingest requests are answered 503 until it recovers (a summary every minute)",
			zap.Error(err))
		s.refused = 0
	case now.Sub(s.lastLog) >= outageSummaryEvery:
		s.log.Warn("the store still refuses writes", zap.Int64("refused_since_last_line", s.refused),
			zap.Duration("for", now.Sub(s.since).Round(time.Second)), zap.String("last_error", s.lastProblem))
		s.lastLog, s.refused = now, 0
	}
}

// worked notes a write the store took.
func (s *writeState) worked(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.since.IsZero() {
		return
	}
	s.log.Info("the store takes writes again", zap.Duration("outage", now.Sub(s.since).Round(time.Second)),
		zap.Int64("refused", s.total))
	s.since, s.refused, s.total, s.lastProblem = time.Time{}, 0, 0, ""
}

// problem is the last write error while the store refuses writes; "" when
// writes work.
func (s *writeState) problem() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastProblem
}
