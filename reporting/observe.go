package reporting

import "context"

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
