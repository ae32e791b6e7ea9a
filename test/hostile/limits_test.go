package hostile_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// droppedOnly is an event the receiver drops (unknown): a request of it
// passes the limits and stores nothing.
const droppedOnly = `{"name":"not_an_event","params":{}}`

// TestLimitedClientStaysLimitedUnderFlood (finding 4): a client out of
// tokens is still limited after a flood of new client ids larger than the
// limiter's table.
func TestLimitedClientStaysLimitedUnderFlood(t *testing.T) {
	p := start(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db"), "--client-burst", "5", "--address-burst", "100000", "--limiter-keys", "1000")
	for i := range 5 {
		if code, body := p.collect(t, "limited-client", droppedOnly); code != 204 {
			t.Fatalf("request %d within the burst: %d %s", i, code, body)
		}
	}
	if code, _ := p.collect(t, "limited-client", droppedOnly); code != http.StatusTooManyRequests {
		t.Fatalf("beyond the burst: %d, want 429", code)
	}
	var wg sync.WaitGroup
	var refused atomic.Int64
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if code, _ := p.collect(t, "flood-"+strconv.Itoa(i), droppedOnly); code != 204 {
					refused.Add(1)
				}
			}
		}()
	}
	for i := range 3000 {
		next <- i
	}
	close(next)
	wg.Wait()
	if n := refused.Load(); n != 0 {
		t.Errorf("%d new client ids of the flood refused", n)
	}
	if code, _ := p.collect(t, "limited-client", droppedOnly); code != http.StatusTooManyRequests {
		t.Errorf("the limited client after a flood of 3,000 client ids (table of 1,000): %d, want still 429", code)
	}
}

// TestClientIDsAsGA4SendsThem (finding 5): client ids are printable ASCII,
// at most 100 characters; bidi overrides, zero-width and C1 characters,
// spaces and longer ids are a 400 naming the rule, on GA4 and UA alike.
func TestClientIDsAsGA4SendsThem(t *testing.T) {
	p := start(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db"), "--property", "UA-1234-5")
	for _, good := range []string{"d613125a-4f3f-431a-8a9a-24b4c5540a31", "1234567890.1700000000", strings.Repeat("x", 100)} {
		if code, body := p.collect(t, good, droppedOnly); code != 204 {
			t.Errorf("client id %q: %d %s", good, code, body)
		}
	}
	for _, bad := range []string{"evil\u202Egnp.exe", "zero\u200Bwidth", "c1\u0085control", "with space", "tab\tid", "del\x7f",
		strings.Repeat("x", 101), "caf\u00e9"} {
		code, body := p.collect(t, bad, droppedOnly)
		if code != 400 || !strings.Contains(body, "printable ASCII") {
			t.Errorf("GA4 client id %q: %d %q, want 400 naming the rule", bad, code, body)
		}
		hit := url.Values{"v": {"1"}, "tid": {"UA-1234-5"}, "cid": {bad}, "t": {"event"}, "ec": {"x"}, "ea": {"y"}}.Encode()
		code, body, _ = p.do(t, "POST", "/collect", hit)
		if code != 400 || !strings.Contains(body, "printable ASCII") {
			t.Errorf("UA client id %q: %d %q, want 400 naming the rule", bad, code, body)
		}
	}
}

// The cluster cap is per property, and --max-clusters-per-address-for
// gives one property (CI runners behind one NAT) its own.
func TestClusterCapPerProperty(t *testing.T) {
	const ci, ciSecret = "G-HOSTILECI", "ci-secret-77ab"
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "r.db")
	p := start(t, dsn, "--property", ci+":"+ciSecret+":ci", "--max-clusters-per-address", "2",
		"--max-clusters-per-address-for", ci+"=4")
	send := func(prop, sec, client string) {
		body := `{"client_id":"` + client + `","events":[` + clusterEvent + `]}`
		if code, answer, _ := p.do(t, "POST", "/mp/collect?measurement_id="+prop+"&api_secret="+sec, body); code != 204 {
			t.Fatalf("%s %s: %d %s", prop, client, code, answer)
		}
	}
	for i := range 6 {
		send(property, secret, "prod-"+strconv.Itoa(i))
		send(ci, ciSecret, "ci-"+strconv.Itoa(i))
	}
	st := openStore(t, dsn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, err := st.Clusters(ctx, time.Now().AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]int{}
	for _, c := range cs {
		if c.Counted {
			counted[c.Property]++
		}
	}
	if counted[property] != 2 || counted[ci] != 4 {
		t.Errorf("clusters counted from one address: %v; want 2 for %s, 4 for %s", counted, property, ci)
	}
}
