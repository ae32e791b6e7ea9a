package reporting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// defaultRequestTimeout bounds one HTTP attempt.
const defaultRequestTimeout = 10 * time.Second

// RetryPolicy says how failed requests are retried. Only server errors (5xx),
// 429 Too Many Requests and network errors are retried; any other 4xx is
// final. Retries also stop when the
// next attempt could not finish before the caller's deadline.
type RetryPolicy struct {
	// Attempts is the most attempts per request, the first included.
	Attempts int
	// BaseDelay is the back-off before the second attempt; it doubles for
	// each further attempt, with random jitter.
	BaseDelay time.Duration
	// MaxDelay caps one back-off.
	MaxDelay time.Duration
}

// defaultRetryPolicy is 4 attempts, backing off 1 s, 2 s, 4 s (with jitter).
var defaultRetryPolicy = RetryPolicy{Attempts: 4, BaseDelay: time.Second, MaxDelay: 30 * time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = defaultRetryPolicy.Attempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = defaultRetryPolicy.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = defaultRetryPolicy.MaxDelay
	}
	return p
}

// backoff returns the pause after attempt n (1-based): BaseDelay·2^(n-1),
// capped at MaxDelay, of which a random half is jitter.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// NewHTTPClient returns the client used to send reports: Go's default
// transport settings (TLS certificates verified, proxies from the
// environment) and no redirects to another host, so the API secret in the
// URL cannot be carried elsewhere. Timeouts are set per attempt by the
// sender.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
				return fmt.Errorf("refusing redirect to another host: %s", req.URL.Host)
			}
			return nil
		},
	}
}

// Outcome is what happened to a cycle's report at one destination.
type Outcome string

// Outcomes.
const (
	// Accepted: every request got a 2xx answer. Google answers 2xx even
	// for payloads it discards, so this means delivered, not valid.
	Accepted Outcome = "accepted"
	// Rejected: some request got a 4xx answer other than 429 (not retried).
	Rejected Outcome = "rejected"
	// Failed: some request still failed (network error, 5xx or 429) after all
	// attempts or when the deadline came.
	Failed Outcome = "failed"
	// NothingToSend: no node had events to send.
	NothingToSend Outcome = "nothing to send"
)

// DestinationResult is what happened at one destination in one cycle.
type DestinationResult struct {
	// Destination is where the report went.
	Destination Destination
	// Outcome sums up the requests.
	Outcome Outcome
	// Requests is how many requests were built; Delivered how many got 2xx.
	Requests, Delivered int
	// Events is how many events (GA4) or hits (UA) were delivered.
	Events int
	// Attempts counts HTTP attempts over all requests, retries included.
	Attempts int
	// Status is the last non-2xx HTTP status seen, 0 if none.
	Status int
	// Err describes the first failure, with secrets masked; nil when
	// accepted.
	Err error
	// Dropped lists events the protocol could not carry.
	Dropped []Dropped
}

// OK reports whether the destination accepted the report (or there was
// nothing to send).
func (r DestinationResult) OK() bool {
	return r.Outcome == Accepted || r.Outcome == NothingToSend
}

// sender delivers built requests with retries.
type sender struct {
	client  *http.Client
	timeout time.Duration
	retry   RetryPolicy
	log     *zap.Logger
}

// attemptResult is the outcome of one request over all its attempts.
type attemptResult struct {
	status    int // of the last attempt, 0 without an answer
	badStatus int // the last non-2xx status of any attempt
	attempts  int
	err       error
}

// errStatus is a non-2xx answer.
type errStatus struct {
	code    int
	snippet string
}

func (e *errStatus) Error() string {
	if e.snippet == "" {
		return fmt.Sprintf("HTTP status %d", e.code)
	}
	return fmt.Sprintf("HTTP status %d: %s", e.code, e.snippet)
}

// deliver sends every request for one destination and logs one line about
// it. It stops early only when the server is unreachable or ctx ends; a
// rejected request does not stop the following ones.
func (s *sender) deliver(ctx context.Context, dest Destination, reqs []Request, dropped []Dropped) DestinationResult {
	res := DestinationResult{Destination: dest, Requests: len(reqs), Dropped: dropped}
	for _, r := range reqs {
		a := s.do(ctx, r)
		res.Attempts += a.attempts
		if a.badStatus != 0 {
			res.Status = a.badStatus
		}
		if a.err == nil {
			res.Delivered++
			res.Events += r.Events
			continue
		}
		if !retryable(a.err) {
			// Rejected: this body is refused; the next may pass.
			if res.Outcome == "" {
				res.Outcome, res.Err = Rejected, a.err
			}
			continue
		}
		// Failed: the server is unreachable or broken, or time is up; the
		// remaining requests would fail the same way.
		res.Outcome = Failed
		res.Err = fmt.Errorf("after %d attempts: %w", a.attempts, a.err)
		break
	}
	switch {
	case len(reqs) == 0:
		res.Outcome = NothingToSend
	case res.Err == nil:
		res.Outcome = Accepted
	}
	s.logResult(res)
	return res
}

func (s *sender) logResult(res DestinationResult) {
	fields := []zap.Field{
		zap.Stringer("destination", res.Destination),
		zap.Int("requests", res.Requests),
		zap.Int("delivered", res.Delivered),
		zap.Int("events", res.Events),
		zap.Int("attempts", res.Attempts),
	}
	switch res.Outcome {
	case Accepted:
		s.log.Info("report accepted", fields...)
	case NothingToSend:
		s.log.Info("report not sent: no events to send", fields...)
	case Rejected:
		s.log.Warn("report rejected", append(fields, zap.Int("status", res.Status), zap.Error(res.Err))...)
	default:
		s.log.Warn("report failed", append(fields, zap.Error(res.Err))...)
	}
}

// retryable says whether a failed attempt may succeed later: network errors,
// server errors (5xx) and 429 Too Many Requests; any other status is a
// refusal of this body.
func retryable(err error) bool {
	var es *errStatus
	if !errors.As(err, &es) {
		return true
	}
	return es.code >= 500 || es.code == http.StatusTooManyRequests
}

// do sends one request, retrying 5xx, 429 and network errors with back-off until
// the policy's attempts run out or the next attempt would start after ctx's
// deadline. Errors have the secret masked.
func (s *sender) do(ctx context.Context, r Request) attemptResult {
	var res attemptResult
	for {
		res.attempts++
		status, err := s.once(ctx, r)
		res.status, res.err = status, err
		if status != 0 && (status < 200 || status > 299) {
			res.badStatus = status
		}
		if err == nil {
			return res
		}
		if !retryable(err) {
			return res
		}
		if res.attempts >= s.retry.Attempts || ctx.Err() != nil {
			return res
		}
		pause := s.retry.backoff(res.attempts)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < pause {
			res.err = fmt.Errorf("%w (no time left to retry before the deadline)", err)
			return res
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return res
		case <-t.C:
		}
	}
}

// once makes one attempt, bounded by the per-request timeout.
func (s *sender) once(parent context.Context, r Request) (int, error) {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL.String(), bytes.NewReader(r.Body))
	if err != nil {
		return 0, fmt.Errorf("build request to %s: %s", r.MaskedURL(), maskSecretIn(err.Error(), r.secret))
	}
	for k, v := range r.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	resp, err := s.client.Do(req)
	if err != nil && resp != nil {
		// A refused redirect: Do returns the redirect response too. It is
		// an answer, not a network error, so it is not retried.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return resp.StatusCode, &errStatus{code: resp.StatusCode, snippet: maskSecretIn(err.Error(), r.secret)}
	}
	if err != nil {
		// *url.Error prints the full URL, secret included: describe the
		// failure ourselves, with the masked URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var reason string
		switch {
		case errors.Is(parent.Err(), context.DeadlineExceeded), errors.Is(context.Cause(parent), errPeriodOver):
			reason = "stopped: no time left in this reporting period"
		case errors.Is(parent.Err(), context.Canceled):
			reason = "stopped: cancelled"
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			reason = fmt.Sprintf("no answer within %v", s.timeout)
		default:
			reason = maskSecretIn(err.Error(), r.secret)
		}
		cause := unwrapSafe(err)
		if ctx.Err() != nil {
			cause = ctx.Err()
		}
		return 0, &maskedError{msg: fmt.Sprintf("POST %s: %s", r.MaskedURL(), reason), err: cause}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, &errStatus{code: resp.StatusCode, snippet: maskSecretIn(snippet(head), r.secret)}
}

// maskedError carries a message with secrets masked while keeping the
// cause (for errors.Is checks such as context.DeadlineExceeded).
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// unwrapSafe keeps only well-known sentinel causes, whose messages hold no
// URL, so that Unwrap cannot lead back to the secret.
func unwrapSafe(err error) error {
	for _, sentinel := range []error{context.DeadlineExceeded, context.Canceled, io.EOF, io.ErrUnexpectedEOF} {
		if errors.Is(err, sentinel) {
			return sentinel
		}
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// deliverAll sends to every destination concurrently, so a slow one does not
// hold up the others, and returns the results in the order of dests.
func (s *sender) deliverAll(ctx context.Context, dests []Destination, endpoint, clientID string, at time.Time, reports []metrics.NodeReport) []DestinationResult {
	results := make([]DestinationResult, len(dests))
	var wg sync.WaitGroup
	for i, d := range dests {
		wg.Go(func() {
			reqs, dropped, err := BuildRequests(d, endpoint, clientID, at, reports)
			if err != nil {
				results[i] = DestinationResult{Destination: d, Outcome: Failed, Err: err}
				s.log.Error("report not sent", zap.Stringer("destination", d), zap.Error(err))
				return
			}
			for _, dr := range dropped {
				s.log.Warn("event dropped for this destination", zap.Stringer("destination", d),
					zap.String("node", dr.Node), zap.String("event", dr.Event), zap.String("reason", dr.Reason))
			}
			results[i] = s.deliver(ctx, d, reqs, dropped)
		})
	}
	wg.Wait()
	return results
}
