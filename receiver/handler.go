package receiver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/store"
)

// Receiver is the ingest: an http.Handler for the endpoints of Google's
// Measurement Protocols and the reports API. A 2xx means stored
// (committed).
type Receiver struct {
	st       store.Store
	props    map[string]Property
	admin    string
	geo      *GeoIP
	trusted  []netip.Prefix
	now      func() time.Time
	log      *zap.Logger
	clients  *keyedLimiter
	addrs    *keyedLimiter
	clusters *clusterCounter
	guard    *AdminGuard
	health   health
	writes   writeState
	mux      *http.ServeMux
}

// Rejection reasons (counted under countRejected).
const (
	reasonRateLimited     = "rate limited"
	reasonUnknownProperty = "unknown property"
	reasonWrongSecret     = "wrong secret"
	reasonBadRequest      = "bad request"
	reasonTooLarge        = "body too large"
	reasonStoreDown       = "store unavailable"
	reasonUnstorable      = "refused by the database"
)

// storeTimeout bounds one request's store write.
const storeTimeout = 20 * time.Second

// New checks cfg and makes a Receiver.
func New(cfg Config) (*Receiver, error) {
	if cfg.Store == nil {
		return nil, errors.New("receiver: no store")
	}
	if len(cfg.Properties) == 0 {
		return nil, errors.New("receiver: no property configured")
	}
	rc := &Receiver{
		st:      cfg.Store,
		props:   map[string]Property{},
		admin:   cfg.AdminToken,
		geo:     cfg.GeoIP,
		trusted: cfg.TrustedProxies,
		now:     cfg.Now,
		log:     cfg.Logger,
	}
	for _, p := range cfg.Properties {
		if _, dup := rc.props[p.ID]; dup {
			return nil, fmt.Errorf("receiver: property %s is configured twice", p.ID)
		}
		rc.props[p.ID] = p
	}
	if rc.now == nil {
		rc.now = time.Now
	}
	if rc.log == nil {
		rc.log = zap.NewNop()
	}
	rc.writes.log = rc.log
	if cfg.ClientLimit == (Limit{}) {
		cfg.ClientLimit = DefaultClientLimit
	}
	if cfg.AddressLimit == (Limit{}) {
		cfg.AddressLimit = DefaultAddressLimit
	}
	if cfg.MaxClustersPerAddress <= 0 {
		cfg.MaxClustersPerAddress = DefaultMaxClustersPerAddress
	}
	for id, n := range cfg.MaxClustersPerAddressOf {
		if _, ok := rc.props[id]; !ok {
			return nil, fmt.Errorf("receiver: a cluster cap for %s, which is not a configured property", id)
		}
		if n < 1 {
			return nil, fmt.Errorf("receiver: the cluster cap of %s must be at least 1, got %d", id, n)
		}
	}
	rc.clients = newKeyedLimiter(cfg.ClientLimit, cfg.MaxTracked)
	rc.addrs = newKeyedLimiter(cfg.AddressLimit, cfg.MaxTracked)
	rc.clusters = newClusterCounter(cfg.MaxClustersPerAddress, cfg.MaxClustersPerAddressOf, cfg.MaxTracked)
	rc.guard = cfg.AdminGuard
	if rc.guard == nil {
		rc.guard = NewAdminGuard(cfg.TrustedProxies, rc.now)
	}
	rc.mux = http.NewServeMux()
	rc.Register(rc.mux)
	return rc, nil
}

// Register adds the ingest endpoints to mux, as method and path patterns
// (POST /mp/collect...), which take precedence over a handler at "/".
func (rc *Receiver) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /mp/collect", func(w http.ResponseWriter, r *http.Request) { rc.ga4(w, r, false) })
	mux.HandleFunc("POST /debug/mp/collect", func(w http.ResponseWriter, r *http.Request) { rc.ga4(w, r, true) })
	mux.HandleFunc("POST /batch", rc.ua)
	mux.HandleFunc("POST /collect", rc.ua)
	mux.HandleFunc("POST /api/v1/reports", rc.reports)
	mux.HandleFunc("GET /healthz", rc.healthz)
	mux.HandleFunc("GET /readyz", rc.healthz)
}

// healthz (and readyz) answers 200 when the store answers and takes
// writes, 503 otherwise: for load balancers in front of several
// receivers. After an outage, the first write that works (a batch, or the
// ingest counts' flush every minute) makes it ready again.
func (rc *Receiver) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := rc.st.Ping(ctx); err != nil {
		answer(w, http.StatusServiceUnavailable, "not ready: the store is unavailable")
		return
	}
	if rc.writes.problem() != "" {
		answer(w, http.StatusServiceUnavailable, "not ready: the store refuses writes (disk full, or the database refuses them)")
		return
	}
	answer(w, http.StatusOK, "ok")
}

// ServeHTTP serves the ingest endpoints alone.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) { rc.mux.ServeHTTP(w, r) }

// FlushCounts writes the ingest health counts gathered since the last
// flush to the store (kept for the next flush if that fails).
// While the store refuses writes, a flush with nothing to write writes a
// zero count: the probe that ends the outage when no request comes (a load
// balancer sends none to a receiver that is not ready).
func (rc *Receiver) FlushCounts(ctx context.Context) error {
	wrote, err := rc.health.flush(ctx, rc.st)
	if !wrote && err == nil && rc.writes.problem() != "" {
		probe := []store.IngestCount{{Day: store.Day(rc.now()), Name: countRequests}}
		if err = rc.st.AddIngestCounts(ctx, probe); err == nil {
			wrote = true
		}
	}
	switch {
	case err != nil && ctx.Err() == nil:
		rc.writes.failed(rc.now(), err)
	case wrote:
		rc.writes.worked(rc.now())
	}
	return err
}

// answer writes a one-line text answer.
func answer(w http.ResponseWriter, status int, msg string) {
	switch status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "10")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "30")
	}
	answerStatus(w, status, msg)
}

// answerStatus is answer with the headers the caller set.
func answerStatus(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// reject refuses a request as a whole and counts it.
func (rc *Receiver) reject(w http.ResponseWriter, now time.Time, property string, status int, reason, msg string) {
	rc.health.add(now, property, countRejected, reason, 1)
	answer(w, status, msg)
}

// readBody reads at most limit bytes; false: the answer is written.
func (rc *Receiver) readBody(w http.ResponseWriter, r *http.Request, now time.Time, property string, limit int64, what string) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		rc.reject(w, now, property, http.StatusRequestEntityTooLarge, reasonTooLarge,
			fmt.Sprintf("the body is larger than %d bytes, the most %s allows", limit, what))
		return nil, false
	case err != nil:
		rc.reject(w, now, property, http.StatusBadRequest, reasonBadRequest, "the body could not be read")
		return nil, false
	}
	return body, true
}

// sameSecret compares secrets in constant time (hashes first, so that not
// even the length shows).
func sameSecret(given, want string) bool {
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (rc *Receiver) ga4(w http.ResponseWriter, r *http.Request, debug bool) {
	now := rc.now()
	addr := sourceAddr(r, rc.trusted)
	q := r.URL.Query()
	id := q.Get("measurement_id")
	prop, known := rc.props[id]
	known = known && prop.Secret != ""
	countAs := "" // the property counts are kept under: "" when unknown
	if known {
		countAs = id
	}
	rc.health.add(now, countAs, countRequests, "", 1)
	if !rc.addrs.allow(addrKey(addr).String(), now) {
		rc.reject(w, now, countAs, http.StatusTooManyRequests, reasonRateLimited, "too many requests from this address: retry later")
		return
	}
	switch {
	case id == "":
		rc.reject(w, now, "", http.StatusForbidden, reasonUnknownProperty, "measurement_id is missing from the URL")
		return
	case !known:
		rc.reject(w, now, "", http.StatusForbidden, reasonUnknownProperty,
			fmt.Sprintf("unknown measurement_id %q: this receiver accepts only the properties it is configured with", clip(id)))
		return
	case !sameSecret(q.Get("api_secret"), prop.Secret):
		rc.reject(w, now, id, http.StatusForbidden, reasonWrongSecret, "wrong api_secret for measurement_id "+id)
		return
	}
	body, ok := rc.readBody(w, r, now, id, maxBodyBytes-1, "GA4 (less than 130 kB)")
	if !ok {
		return
	}
	d, rerr := decodeGA4(body)
	if debug {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"validationMessages": validationMessages(d, rerr)})
		return
	}
	if rerr != nil {
		rc.reject(w, now, id, http.StatusBadRequest, reasonBadRequest, rerr.Error())
		return
	}
	rc.store(w, r, now, prop, addr, d, http.StatusNoContent)
}

func (rc *Receiver) ua(w http.ResponseWriter, r *http.Request) {
	now := rc.now()
	addr := sourceAddr(r, rc.trusted)
	if !rc.addrs.allow(addrKey(addr).String(), now) {
		rc.health.add(now, "", countRequests, "", 1)
		rc.reject(w, now, "", http.StatusTooManyRequests, reasonRateLimited, "too many requests from this address: retry later")
		return
	}
	body, ok := rc.readBody(w, r, now, "", maxUABodyBytes, "a UA batch (16 KiB)")
	if !ok {
		rc.health.add(now, "", countRequests, "", 1)
		return
	}
	u, rerr := decodeUA(body)
	tid := ""
	if u != nil {
		tid = u.TrackingID
	}
	prop, known := rc.props[tid]
	known = known && prop.Secret == ""
	countAs := ""
	if known {
		countAs = tid
	}
	rc.health.add(now, countAs, countRequests, "", 1)
	switch {
	case rerr != nil:
		rc.reject(w, now, "", http.StatusBadRequest, reasonBadRequest, rerr.Error())
	case !known:
		rc.reject(w, now, "", http.StatusForbidden, reasonUnknownProperty,
			fmt.Sprintf("unknown tracking id %q: this receiver accepts only the properties it is configured with", clip(tid)))
	default:
		rc.store(w, r, now, prop, addr, &u.decoded, http.StatusOK)
	}
}

// store stores one request's valid events and answers.
func (rc *Receiver) store(w http.ResponseWriter, r *http.Request, now time.Time, prop Property, addr netip.Addr, d *decoded, ok int) {
	if !rc.clients.allow(prop.ID+"\x00"+d.ClientID, now) {
		rc.reject(w, now, prop.ID, http.StatusTooManyRequests, reasonRateLimited, "too many requests for this client id: retry later")
		return
	}
	countDrops := func() {
		for _, dr := range d.Dropped {
			rc.health.add(now, prop.ID, countDropped, dr.Err.Reason, 1)
		}
	}
	if len(d.Events) == 0 {
		countDrops()
		w.WriteHeader(ok)
		return
	}
	b := store.Batch{
		Received: now,
		Property: prop.ID,
		Kind:     prop.Kind,
		ClientID: d.ClientID,
		Country:  rc.geo.Country(addr),
		Counted:  rc.clusters.counted(prop.ID, addrKey(addr), d.ClientID, now),
		Events:   d.Events,
	}
	if d.TimestampMicros != 0 {
		ts := strconv.FormatInt(d.TimestampMicros, 10)
		b.ReportKey = keyOf(prop.ID, d.ClientID, ts)
		b.DedupKey = keyOf(prop.ID, d.ClientID, ts, strconv.FormatInt(d.Position, 10), eventsHash(d.Events))
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	stored, err := rc.st.AddBatch(ctx, b)
	switch {
	case errors.Is(err, store.ErrPermanent):
		// Retrying cannot help: not an outage, not a 503.
		rc.reject(w, now, prop.ID, http.StatusUnprocessableEntity, reasonUnstorable,
			"the database refuses this batch; it is not stored and retrying will not help")
		return
	case err != nil:
		if r.Context().Err() == nil {
			rc.writes.failed(now, err)
		}
		rc.reject(w, now, prop.ID, http.StatusServiceUnavailable, reasonStoreDown, "the store is unavailable: retry later")
		return
	}
	rc.writes.worked(now)
	countDrops()
	switch {
	case !stored:
		rc.health.add(now, prop.ID, countDuplicate, "", 1)
	default:
		rc.health.add(now, prop.ID, countStored, "", 1)
		if !b.Counted {
			rc.health.add(now, prop.ID, countUncounted, reasonTooManyClusters, 1)
		}
	}
	w.WriteHeader(ok)
}

// reports is POST /api/v1/reports: a report file, with the admin token.
func (rc *Receiver) reports(w http.ResponseWriter, r *http.Request) {
	now := rc.now()
	if rc.admin == "" {
		answer(w, http.StatusForbidden, "the reports API is disabled: start the receiver with --admin-token")
		return
	}
	if wait := rc.guard.Blocked(r); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		answerStatus(w, http.StatusTooManyRequests, "too many wrong admin tokens: retry later")
		return
	}
	token, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !hasBearer || !sameSecret(strings.TrimSpace(token), rc.admin) {
		rc.guard.Failed(r)
		answer(w, http.StatusForbidden, "wrong or missing admin token: send Authorization: Bearer <admin token>")
		return
	}
	q := r.URL.Query()
	opt := ImportOptions{Property: q.Get("property"), Kind: store.Kind(q.Get("kind")), ClientID: q.Get("client_id"), Now: now}
	if p, ok := rc.props[opt.Property]; ok && opt.Kind == "" {
		opt.Kind = p.Kind
	}
	if len(opt.Property) > maxClientIDLen || strings.ContainsFunc(opt.Property, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		answer(w, http.StatusBadRequest, fmt.Sprintf("property must be at most %d printable characters", maxClientIDLen))
		return
	}
	body, ok := rc.readBody(w, r, now, opt.Property, maxReportFileBytes, "a report file (64 MiB)")
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*storeTimeout)
	defer cancel()
	res, err := Import(ctx, rc.st, body, opt)
	var ie *ImportError
	switch {
	case errors.As(err, &ie):
		answer(w, http.StatusBadRequest, ie.Error())
		return
	case errors.Is(err, store.ErrPermanent):
		answer(w, http.StatusUnprocessableEntity, "the database refuses this report file; it is not stored and retrying will not help")
		return
	case err != nil:
		rc.log.Warn("a report file could not be stored: answered 503", zap.Error(err))
		answer(w, http.StatusServiceUnavailable, "the store is unavailable: retry later")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}
