package observe

import (
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// scrape returns what /metrics serves.
func scrape(t *testing.T, e *Exporter) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// sample finds the value of a series (name{labels} as the text format
// writes it, labels sorted) in a scrape; a prefix ending in a label
// matches any series that starts with it.
func sample(text, series string) (float64, bool) {
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, series) {
			continue
		}
		rest := l[len(series):]
		if !strings.HasPrefix(rest, " ") {
			if strings.HasSuffix(series, "}") || (rest != "" && rest[0] != ',' && rest[0] != '}') {
				continue
			}
			_, rest, _ = strings.Cut(rest, "} ")
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		return v, err == nil
	}
	return 0, false
}

func mustGather(t *testing.T, e *Exporter) []*dto.MetricFamily {
	t.Helper()
	mfs, err := e.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}
