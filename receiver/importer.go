package receiver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/store"
)

// maxReportFileBytes bounds a report file (a node with 10,000 hosts
// reports about 10,000 module events, ~1 MB).
const maxReportFileBytes = 64 << 20

// DefaultImportProperty is the property of imported reports when none is
// named.
const DefaultImportProperty = "import"

// ImportOptions say whose reports a file holds.
type ImportOptions struct {
	// Property and Kind are stored with every batch; empty:
	// DefaultImportProperty, production.
	Property string
	Kind     store.Kind
	// ClientID is the cluster's id for MongooseIM's own files, which carry
	// none; the sidecar's file names its own and this must then be empty
	// or equal.
	ClientID string
	// Now is the import's time: the batches' received time when the file
	// does not say when it was made (or says a time in the future).
	Now time.Time
}

// ImportResult says what an import stored.
type ImportResult struct {
	Batches    int            `json:"batches"`
	Duplicates int            `json:"duplicates"`
	Events     int            `json:"events"`
	Dropped    map[string]int `json:"dropped"`
}

// ImportError is a file that cannot be imported at all: not a report, or
// a MongooseIM file without a client id.
type ImportError struct{ msg string }

func (e *ImportError) Error() string { return e.msg }

// Import stores a system_metrics_report.json: the sidecar's (one batch per
// node) or MongooseIM's own (one batch). Importing a file twice stores it
// once. A store failure is returned as it is; a bad file as *ImportError.
func Import(ctx context.Context, st store.Store, data []byte, opt ImportOptions) (ImportResult, error) {
	res := ImportResult{Dropped: map[string]int{}}
	if opt.Property == "" {
		opt.Property = DefaultImportProperty
	}
	if opt.Kind == "" {
		opt.Kind = store.Production
	}
	if opt.Kind != store.Production && opt.Kind != store.CI {
		return res, &ImportError{fmt.Sprintf("unknown kind %q: use production or ci", opt.Kind)}
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	f, rerr := decodeReportFile(data)
	if rerr != nil {
		return res, &ImportError{rerr.Error()}
	}
	cid := f.ClientID
	switch {
	case cid == "" && opt.ClientID == "":
		return res, &ImportError{"the file names no client id (MongooseIM's own report file): give the cluster's id (client_id, --client-id)"}
	case cid == "":
		if rerr := checkClientID(opt.ClientID); rerr != nil {
			return res, &ImportError{rerr.Error()}
		}
		cid = opt.ClientID
	case opt.ClientID != "" && opt.ClientID != cid:
		return res, &ImportError{"the file is the report of another client id than the one given"}
	}
	received := opt.Now
	stamp := "mongooseim-file"
	if !f.GeneratedAt.IsZero() {
		stamp = f.GeneratedAt.UTC().Format(time.RFC3339)
		if !f.GeneratedAt.After(opt.Now) {
			received = f.GeneratedAt
		}
	}
	for i, n := range f.Nodes {
		for _, d := range n.Dropped {
			res.Dropped[d.Err.Reason]++
		}
		if len(n.Events) == 0 {
			continue
		}
		report := keyOf(opt.Property, cid, stamp, strconv.Itoa(i))
		b := store.Batch{
			Received:  received,
			Property:  opt.Property,
			Kind:      opt.Kind,
			ClientID:  cid,
			ReportKey: report,
			DedupKey:  keyOf(report, eventsHash(n.Events)),
			Counted:   true,
			Events:    n.Events,
		}
		stored, err := st.AddBatch(ctx, b)
		if err != nil {
			return res, fmt.Errorf("store the report of node %d: %w", i+1, err)
		}
		if stored {
			res.Batches++
			res.Events += len(n.Events)
		} else {
			res.Duplicates++
		}
	}
	if err := st.AddIngestCounts(ctx, importCounts(opt, res)); err != nil {
		return res, fmt.Errorf("count the import in the ingest health: %w", err)
	}
	return res, nil
}

// importCounts is an import in the ingest health, under the day of the
// import and the property it was stored as: batches stored and already
// stored, events dropped by reason.
func importCounts(opt ImportOptions, res ImportResult) []store.IngestCount {
	day := store.Day(opt.Now)
	var out []store.IngestCount
	add := func(name, reason string, n int) {
		if n > 0 {
			out = append(out, store.IngestCount{Day: day, Property: opt.Property, Name: name, Reason: reason, N: int64(n)})
		}
	}
	add(countImported, "batches stored", res.Batches)
	add(countImported, "batches already stored", res.Duplicates)
	for reason, n := range res.Dropped {
		add(countDropped, reason+" (import)", n)
	}
	return out
}

// keyOf joins parts unambiguously and hashes them (report and dedup keys
// of bounded length).
func keyOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// eventsHash identifies a list of events (encoding/json sorts map keys).
func eventsHash(events []contract.Event) string {
	b, _ := json.Marshal(events) // strings and int64 always encode
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
