package reporting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/inventory"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// Defaults of MongooseIM's initial_report and periodic_report.
const (
	DefaultInitialDelay = 5 * time.Minute
	DefaultPeriod       = 3 * time.Hour
)

// shutdownGrace bounds how long Run waits, after its context ends, for the
// running cycle to notice and finish.
const shutdownGrace = 2 * time.Second

// errReportingOff is returned by RunOnce when the consent forbids reporting.
var errReportingOff = errors.New("reporting is off (--no-report or DO_NOT_TRACK)")

// Config configures a Service. Start from DefaultConfig; zero values of the
// optional fields mean their defaults.
type Config struct {
	// Source gathers the reports and the Cluster ID. Required.
	Source Source
	// Consent decides whether anything is collected and sent. The caller
	// announces it (Consent.Announce); the service only obeys it.
	Consent Consent
	// Targets chooses the destinations of each report.
	Targets Targets
	// Endpoint is the Google Analytics base URL (--ga-endpoint); default
	// DefaultEndpoint.
	Endpoint string
	// ReportFile is the report file path (--report-file); default
	// DefaultReportFile.
	ReportFile string
	// StateDir holds the local Cluster ID of clusters without one. Required.
	StateDir string
	// InitialDelay is the time from Run to the first report (may be 0).
	InitialDelay time.Duration
	// Period is the time between reports (fixed rate; must be positive).
	Period time.Duration
	// RequestTimeout bounds one HTTP attempt; default defaultRequestTimeout.
	RequestTimeout time.Duration
	// Retry says how failed requests are retried; zero fields take
	// defaultRetryPolicy's.
	Retry RetryPolicy
	// HTTPClient sends the requests; default NewHTTPClient().
	HTTPClient *http.Client
	// Logger receives the log; default a no-op logger.
	Logger *zap.Logger
	// Clock drives the schedule and dates the report file; default
	// SystemClock.
	Clock Clock
	// Observer, when set, is told what every cycle did (see CycleObserver).
	Observer CycleObserver
}

// DefaultConfig returns a Config with MongooseIM's schedule (first report
// after 5 minutes, then every 3 hours), the default endpoint and report file,
// upstream reporting on, and the default HTTP settings. Source and StateDir
// must still be set.
func DefaultConfig() Config {
	return Config{
		Targets:        Targets{Upstream: true},
		Endpoint:       DefaultEndpoint,
		ReportFile:     DefaultReportFile,
		InitialDelay:   DefaultInitialDelay,
		Period:         DefaultPeriod,
		RequestTimeout: defaultRequestTimeout,
		Retry:          defaultRetryPolicy,
	}
}

// Service reports on a schedule. Create it with NewService.
type Service struct {
	cfg  Config
	log  *zap.Logger
	send *sender

	seq       atomic.Uint64 // cycle numbers
	startOnce sync.Once

	mu      sync.Mutex // guards ids and plan across overlapping cycles
	ids     clusterIDResolver
	plan    string
	builtin builtinWarner
	members memberWatch

	fileMu  sync.Mutex
	written uint64 // the newest cycle whose report file was written
}

// NewService checks cfg, fills in defaults and returns the service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Source == nil {
		return nil, errors.New("reporting: no source")
	}
	if cfg.StateDir == "" {
		return nil, errors.New("reporting: no state directory")
	}
	if cfg.Period <= 0 {
		return nil, fmt.Errorf("reporting: the period must be positive, got %s", cfg.Period)
	}
	if cfg.InitialDelay < 0 {
		return nil, fmt.Errorf("reporting: the initial delay must not be negative, got %s", cfg.InitialDelay)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if _, err := ParseEndpoint(cfg.Endpoint); err != nil {
		return nil, fmt.Errorf("reporting: %w", err)
	}
	for _, d := range append(append([]Destination(nil), cfg.Targets.Own...), cfg.Targets.Receivers...) {
		if _, _, err := BuildRequests(d, cfg.Endpoint, "check", time.Time{}, nil); err != nil {
			return nil, fmt.Errorf("reporting: %w", err)
		}
	}
	if cfg.ReportFile == "" {
		cfg.ReportFile = DefaultReportFile
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	cfg.Retry = cfg.Retry.withDefaults()
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewHTTPClient()
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	return &Service{
		cfg:  cfg,
		log:  cfg.Logger,
		send: &sender{client: cfg.HTTPClient, timeout: cfg.RequestTimeout, retry: cfg.Retry, log: cfg.Logger},
		ids:  clusterIDResolver{stateDir: cfg.StateDir},
	}, nil
}

// Result is what one cycle did.
type Result struct {
	// ClientID is the client id the reports were sent with.
	ClientID string
	// LocalClusterID is true when ClientID comes from the state directory
	// because the cluster has no Cluster ID.
	LocalClusterID bool
	// Nodes is the number of nodes reported on; Collected how many of them
	// answered; Down how many of the others are members the cluster
	// records that are not running (metrics.NodeReport.Down).
	Nodes, Collected, Down int
	// Events is the number of valid events over all nodes; Dropped lists
	// the invalid ones, left out.
	Events  int
	Dropped []Dropped
	// Destinations has one entry per destination, in order.
	Destinations []DestinationResult
	// ReportFile is the report file path; FileErr is set when it could not
	// be written.
	ReportFile string
	FileErr    error
	// Drift lists where the collected nodes differ (see inventory.Drift).
	Drift []inventory.Difference
}

// Accepted reports whether every destination accepted the report (true
// when there are no destinations).
func (r Result) Accepted() bool {
	for _, d := range r.Destinations {
		if !d.OK() {
			return false
		}
	}
	return true
}

// announceStart logs, once per service, the schedule and the warning about
// Universal Analytics.
func (s *Service) announceStart(schedule bool) {
	s.startOnce.Do(func() {
		for _, d := range s.cfg.Targets.Own {
			if d.Protocol == UA {
				s.log.Warn(uaSunsetNotice, zap.Stringer("destination", d))
			}
		}
		own := make([]string, len(s.cfg.Targets.Own))
		for i, d := range s.cfg.Targets.Own {
			own[i] = d.String()
		}
		receivers := make([]string, len(s.cfg.Targets.Receivers))
		for i, d := range s.cfg.Targets.Receivers {
			receivers[i] = d.String()
		}
		upstream := "off"
		if s.cfg.Targets.Upstream {
			upstream = upstreamDestination(s.cfg.Targets.CI).String() + ", for MongooseIM clusters only"
		}
		fields := []zap.Field{
			zap.String("upstream", upstream),
			zap.Strings("own_tracking_ids", own),
			zap.Strings("receivers", receivers),
			zap.String("endpoint", s.cfg.Endpoint),
			zap.String("report_file", s.cfg.ReportFile),
		}
		if schedule {
			fields = append(fields, zap.Duration("initial_delay", s.cfg.InitialDelay), zap.Duration("period", s.cfg.Period))
		}
		s.log.Info("reporting starts; destinations are chosen when the cluster's software is known", fields...)
	})
}

// Run reports until ctx ends: the first cycle after InitialDelay, then one
// every Period at a fixed rate (ticks are armed from the schedule, not from
// the end of a cycle; ticks missed entirely, e.g. while the machine slept,
// are skipped). Each cycle's context ends at the next tick; a cycle still
// running then is cancelled and logged, and the new one starts at once.
// Run returns nil when ctx ends, after giving the running cycle a moment to
// stop. Without consent it returns nil at once, having done nothing.
func (s *Service) Run(ctx context.Context) error {
	if !s.cfg.Consent.Allowed() {
		return nil
	}
	s.announceStart(true)
	clock := s.cfg.Clock
	next := clock.Now().Add(s.cfg.InitialDelay)
	timer := clock.NewTimer(s.cfg.InitialDelay)
	defer timer.Stop()

	var cancelPrev context.CancelFunc
	var donePrev chan struct{}
	var cycles sync.WaitGroup // every cycle, also cancelled ones still ending
	for {
		select {
		case <-ctx.Done():
			// Every cycle's context derives from ctx, so all are cancelled.
			allDone := make(chan struct{})
			go func() { cycles.Wait(); close(allDone) }()
			select {
			case <-allDone:
			case <-time.After(shutdownGrace):
				s.log.Warn("stopping while a report cycle is still running")
			}
			return nil
		case <-timer.C():
		}
		if donePrev != nil {
			select {
			case <-donePrev:
			default:
				s.log.Warn("the previous report cycle was still running at the next tick: cancelled it; starting a new one",
					zap.Duration("period", s.cfg.Period))
				cancelPrev()
			}
		}
		// Arm the schedule's next tick, skipping ticks missed entirely.
		now := clock.Now()
		next = next.Add(s.cfg.Period)
		if !next.After(now) {
			missed := now.Sub(next)/s.cfg.Period + 1
			next = next.Add(missed * s.cfg.Period)
			s.log.Warn("report ticks missed (was the machine asleep?); skipping them", zap.Int64("missed", int64(missed)))
		}
		// The cycle may run until the next tick: its context times out
		// then (and is cancelled at the tick in any case).
		cctx, cancel := cycleContext(ctx, next.Sub(now))
		done := make(chan struct{})
		seq := s.seq.Add(1)
		cycles.Go(func() {
			defer close(done)
			defer cancel()
			_, _ = s.observedCycle(cctx, seq)
		})
		cancelPrev, donePrev = cancel, done
		timer.Reset(next.Sub(now))
	}
}

// errPeriodOver is the cause of a cycle's end at the next tick.
var errPeriodOver = errors.New("the reporting period ended")

// cycleContext bounds a cycle by the next tick, d from now. Whether its
// deadline passes first or Run cancels it at the tick, its cause is
// errPeriodOver, so that work cut short says why (a send to an endpoint
// that answers too late is not "cancelled"); when parent ends (shutdown),
// parent's cause shows.
func cycleContext(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	tctx, cancelT := context.WithTimeoutCause(parent, d, errPeriodOver)
	cctx, cancelC := context.WithCancelCause(tctx)
	return cctx, func() { cancelC(errPeriodOver); cancelT() }
}

// RunOnce runs one cycle now and returns what it did. ctx bounds it; without
// a deadline, Period does. The error is set when no report could be made
// (no client id, collection failed, no node answered); delivery problems
// are in the Result (see Result.Accepted). Without consent it returns
// errReportingOff.
func (s *Service) RunOnce(ctx context.Context) (Result, error) {
	if !s.cfg.Consent.Allowed() {
		return Result{}, errReportingOff
	}
	s.announceStart(false)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Period)
		defer cancel()
	}
	return s.observedCycle(ctx, s.seq.Add(1))
}

// Preview collects once and writes to w what a cycle would send, sending
// nothing and writing no report file: the reports as JSON (one object per
// node, its events as MongooseIM 6.1+ writes them to
// system_metrics_report.json), then, unless jsonOnly, where the reports go
// and the exact requests of every destination (see writeRequests). It does
// not check the consent: it is an explicit request by the user and sends
// nothing. A cluster without a Cluster ID gets its local one, as for a real
// report. When a node could not be collected, the error says how many;
// when none could, nothing is written and the error is theirs, once.
func (s *Service) Preview(ctx context.Context, w io.Writer, jsonOnly bool) error {
	reports, err := s.cfg.Source.Collect(ctx)
	if err != nil {
		return err
	}
	var failed []error
	for _, r := range reports {
		if r.Err != nil {
			failed = append(failed, r.Err)
		}
	}
	if len(failed) == len(reports) {
		return noneCollected(failed)
	}
	if err := writeReportsJSON(w, reports); err != nil {
		return err
	}
	if !jsonOnly {
		s.mu.Lock()
		clientID, _, err := s.ids.resolve(ctx, s.cfg.Source)
		s.mu.Unlock()
		if err != nil {
			return err
		}
		server := clusterServer(reports)
		if _, err := fmt.Fprintf(w, "\n# %s\n", s.cfg.Targets.Describe(server, s.cfg.ReportFile)); err != nil {
			return fmt.Errorf("preview: %w", err)
		}
		if err := writeRequests(w, s.cfg.Targets.For(server), s.cfg.Endpoint, clientID, s.cfg.Clock.Now(), reports); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d nodes could not be collected", len(failed), len(reports))
	}
	return nil
}

// noneCollected is the error of a collection in which no node answered:
// the one node's own error, or every node's on one line.
func noneCollected(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return lineErrors(errs)
}

// lineErrors joins errors on one line; errors.Is and errors.As see each.
type lineErrors []error

func (e lineErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("none of the %d nodes could be collected: %s", len(e), strings.Join(msgs, " | "))
}

func (e lineErrors) Unwrap() []error { return e }

// cycle makes one report: client id, collect, send to every destination,
// write the report file, log a summary.
func (s *Service) cycle(ctx context.Context, seq uint64) (Result, error) {
	started := time.Now()
	res := Result{ReportFile: s.cfg.ReportFile}

	reports, err := s.cfg.Source.Collect(ctx)
	if err != nil {
		s.log.Error("report cycle skipped: collecting the report failed", zap.Error(err))
		return res, fmt.Errorf("report cycle: collect: %w", err)
	}
	res.Nodes = len(reports)
	var nodeErrs []error
	for _, r := range reports {
		switch {
		case r.Down:
			// Told once, when it goes down (see memberWatch).
			res.Down++
			nodeErrs = append(nodeErrs, r.Err)
			continue
		case r.Err != nil:
			s.log.Warn("node could not be collected; it is left out of this report", zap.String("node", r.Node), zap.Error(r.Err))
			nodeErrs = append(nodeErrs, r.Err) // it names the node
			continue
		}
		res.Collected++
	}
	s.members.check(s.log, s.cfg.Clock.Now(), reports)
	s.builtin.check(s.log, reports)
	if res.Collected == 0 {
		err := errors.Join(append([]error{errors.New("no node could be collected")}, nodeErrs...)...)
		s.log.Error("report cycle skipped: no node could be collected; the report file is left as it was", zap.Int("nodes", res.Nodes))
		return res, fmt.Errorf("report cycle: %w", err)
	}
	// The Cluster ID comes with the gathers: ask for it after collecting.
	s.mu.Lock()
	clientID, local, err := s.ids.resolve(ctx, s.cfg.Source)
	s.mu.Unlock()
	if err != nil {
		s.log.Error("report cycle skipped: no client id", zap.Error(err))
		return res, fmt.Errorf("report cycle: %w", err)
	}
	res.ClientID, res.LocalClusterID = clientID, local

	clean, dropped := sanitizeReports(reports)
	res.Dropped = dropped
	for _, d := range dropped {
		s.log.Warn("event dropped: it breaks a Google Analytics rule", zap.String("node", d.Node), zap.String("event", d.Event), zap.String("reason", d.Reason))
	}
	for _, r := range clean {
		res.Events += len(r.Events)
	}
	res.Drift = inventory.Drift(clean)
	logDrift(s.log, res.Drift)

	server := clusterServer(reports)
	s.logPlan(server)
	dests := s.cfg.Targets.For(server)
	// The cycle's time dates every request to a receiver, retries included.
	res.Destinations = s.send.deliverAll(ctx, dests, s.cfg.Endpoint, clientID, s.cfg.Clock.Now(), clean)

	res.FileErr = s.writeFile(seq, clientID, clean, dropped, res.Destinations)
	if res.FileErr != nil {
		s.log.Error("report file not written", zap.String("report_file", s.cfg.ReportFile), zap.Error(res.FileErr))
	}

	ok := 0
	for _, d := range res.Destinations {
		if d.OK() {
			ok++
		}
	}
	fields := []zap.Field{
		zap.String("client_id", clientID),
		zap.Bool("local_cluster_id", local),
		zap.Int("nodes", res.Nodes),
		zap.Int("collected", res.Collected),
		zap.Int("down", res.Down),
		zap.Int("events", res.Events),
		zap.Int("dropped", len(dropped)),
		zap.String("destinations_accepted", fmt.Sprintf("%d/%d", ok, len(res.Destinations))),
		zap.String("report_file", s.cfg.ReportFile),
		zap.Duration("took", time.Since(started)),
	}
	switch {
	case ok < len(res.Destinations) && res.FileErr == nil:
		s.log.Warn("report cycle done; sending failed for some destinations, the report file was written anyway", fields...)
	case ok < len(res.Destinations):
		s.log.Warn("report cycle done; sending failed for some destinations", fields...)
	default:
		s.log.Info("report cycle done", fields...)
	}
	return res, nil
}

// logPlan logs where reports go whenever that changes (the first cycle, or
// when the cluster's software changes).
func (s *Service) logPlan(server metrics.Server) {
	plan := s.cfg.Targets.Describe(server, s.cfg.ReportFile)
	s.mu.Lock()
	changed := plan != s.plan
	s.plan = plan
	s.mu.Unlock()
	if changed {
		s.log.Info(plan, zap.String("what", "report_destinations"))
	}
}

// writeFile writes the report file unless a newer cycle already did (an
// old, cancelled cycle may finish late).
func (s *Service) writeFile(seq uint64, clientID string, reports []metrics.NodeReport, dropped []Dropped, results []DestinationResult) error {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if seq < s.written {
		return nil
	}
	if err := writeReportFile(s.cfg.ReportFile, clientID, s.cfg.Clock.Now(), reports, dropped, results); err != nil {
		return err
	}
	s.written = seq
	return nil
}

// ParseInterval parses a reporting interval: a Go duration ("5m", "3h",
// "100ms") or a bare non-negative integer of milliseconds, MongooseIM's unit
// ("300000"). Negative or unparsable values are errors naming the value.
func ParseInterval(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("invalid interval %q: expected a duration such as 5m or 3h, or milliseconds such as 300000", s)
	}
	if n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("invalid interval %q: must not be negative", s)
		}
		if n > math.MaxInt64/int64(time.Millisecond) {
			return 0, fmt.Errorf("invalid interval %q: too large", s)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("invalid interval %q: expected a duration such as 5m or 3h, or milliseconds such as 300000", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid interval %q: must not be negative", s)
	}
	return d, nil
}
