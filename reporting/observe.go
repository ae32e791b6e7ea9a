package reporting

import (
	"context"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/inventory"
)

// CycleObserver is told, after every cycle, what it did: its Result, and
// the error when no report could be made. The operator's own metrics
// (package observe) are made from it. It is called from the cycle's
// goroutine and must return quickly.
type CycleObserver func(res Result, err error)

// observedCycle is cycle, reported to the configured observer.
func (s *Service) observedCycle(ctx context.Context, seq uint64) (Result, error) {
	res, err := s.cycle(ctx, seq)
	if s.cfg.Observer != nil {
		s.cfg.Observer(res, err)
	}
	return res, err
}

// logDrift logs, in one warning, where the nodes differ: what should be
// the same on every node of a cluster (version, modules and backends,
// transports, HTTP handlers).
func logDrift(log *zap.Logger, drift []inventory.Difference) {
	if len(drift) == 0 {
		return
	}
	lines := make([]string, len(drift))
	for i, d := range drift {
		lines[i] = d.String()
	}
	log.Warn("the cluster's nodes differ (a rolling upgrade not finished, or a configuration changed on some nodes only)",
		zap.Int("differences", len(drift)), zap.Strings("drift", lines))
}
