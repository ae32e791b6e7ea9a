package hostile_test

import (
	"context"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// login posts the login form; it returns the status and the session cookie.
func login(t *testing.T, p *receiverProc, token string, header ...string) (int, *http.Cookie) {
	t.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)
	code, _, resp := p.do(t, "POST", "/admin/login", url.Values{"token": {token}}.Encode(), h...)
	for _, c := range resp.Cookies() {
		if c.Name == "mim_metrics_admin" && c.Value != "" {
			return code, c
		}
	}
	return code, nil
}

func adminPage(t *testing.T, p *receiverProc, c *http.Cookie) int {
	t.Helper()
	code, _, _ := p.do(t, "GET", "/admin", "", "Cookie", c.Name+"="+c.Value)
	return code
}

// TestAdminSessions (finding 2): each login is a session of its own, kept
// in the database (two receivers on it agree), ended by logout and by a
// new admin token; logout refuses a cross-site form; the cookie is Secure
// when a trusted proxy says the request came over HTTPS.
func TestAdminSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		a := start(t, dsn, "--trusted-proxy", "127.0.0.1")
		b := start(t, dsn)
		code, c1 := login(t, a, adminToken)
		_, c2 := login(t, a, adminToken)
		if code != http.StatusSeeOther || c1 == nil || c2 == nil {
			t.Fatalf("login: %d, cookies %v %v", code, c1, c2)
		}
		if c1.Value == c2.Value || strings.Contains(c1.Value, adminToken) || !c1.HttpOnly {
			t.Errorf("two logins, cookies %q and %q: want two random HttpOnly session ids", c1.Value, c2.Value)
		}
		if c1.Secure {
			t.Error("Secure without HTTPS")
		}
		if got := adminPage(t, b, c1); got != 200 {
			t.Errorf("the other receiver with a session: %d, want 200", got)
		}
		// Cross-site logout: refused, the session lives.
		code, _, _ = b.do(t, "POST", "/admin/logout", "", "Cookie", c2.Name+"="+c2.Value,
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if code != http.StatusForbidden || adminPage(t, a, c2) != 200 {
			t.Errorf("cross-site logout: %d, want 403 and the session kept", code)
		}
		code, _, _ = b.do(t, "POST", "/admin/logout", "", "Cookie", c1.Name+"="+c1.Value, "Sec-Fetch-Site", "same-origin")
		if code != http.StatusSeeOther {
			t.Errorf("logout: %d", code)
		}
		if got := adminPage(t, a, c1); got != http.StatusUnauthorized {
			t.Errorf("a session after logout (on the other receiver): %d, want 401", got)
		}
		if got := adminPage(t, a, c2); got != 200 {
			t.Errorf("the other session after one logout: %d, want 200", got)
		}
		// Cross-site login is refused too (login CSRF).
		if code, c := login(t, a, adminToken, "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden || c != nil {
			t.Errorf("cross-site login: %d %v", code, c)
		}
		// HTTPS at a trusted proxy: Secure. From an untrusted peer the
		// header is not believed.
		if _, c := login(t, a, adminToken, "X-Forwarded-Proto", "https"); c == nil || !c.Secure {
			t.Errorf("login through a trusted HTTPS proxy: %+v, want Secure", c)
		}
		if _, c := login(t, b, adminToken, "X-Forwarded-Proto", "https"); c == nil || c.Secure {
			t.Errorf("X-Forwarded-Proto from an untrusted peer: %+v, want not Secure", c)
		}
		// A new admin token ends every session.
		a.Stop(t)
		b.Stop(t)
		c := start(t, dsn, "--admin-token", "another-admin-token-3b9f71")
		if got := adminPage(t, c, c2); got != http.StatusUnauthorized {
			t.Errorf("a session after the token changed: %d, want 401", got)
		}
	})
}

// TestGuessingIsSlow (finding 3): wrong admin tokens at the login form
// and as bearer tokens are limited per address and overall, with 429 and
// Retry-After; a weak token is refused at start.
func TestGuessingIsSlow(t *testing.T) {
	p := start(t, "sqlite:"+t.TempDir()+"/r.db", "--trusted-proxy", "127.0.0.1")
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
	for _, door := range []string{"login", "bearer", "dashboard bearer"} {
		addr := map[string]string{"login": "198.51.100.1", "bearer": "198.51.100.2", "dashboard bearer": "198.51.100.3"}[door]
		try := func(token string) (int, *http.Response) {
			switch door {
			case "login":
				h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, from(addr)...)
				code, _, resp := p.do(t, "POST", "/admin/login", url.Values{"token": {token}}.Encode(), h...)
				return code, resp
			case "bearer":
				code, _, resp := p.do(t, "POST", "/api/v1/reports", "{}", append(from(addr), "Authorization", "Bearer "+token)...)
				return code, resp
			}
			code, _, resp := p.do(t, "GET", "/admin", "", append(from(addr), "Authorization", "Bearer "+token)...)
			return code, resp
		}
		limited := 0
		for i := range 30 {
			code, resp := try("wrong-token-" + strconv.Itoa(i))
			if code == http.StatusTooManyRequests {
				if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
					t.Errorf("%s: 429 with Retry-After %q", door, resp.Header.Get("Retry-After"))
				}
				limited++
			}
		}
		if limited < 15 {
			t.Errorf("%s: %d of 30 wrong tokens from one address got 429, want all after the first 10", door, limited)
		}
		if code, _ := try(adminToken); code != http.StatusTooManyRequests {
			t.Errorf("%s: the right token from a limited address: %d, want 429 until the bucket refills", door, code)
		}
	}
	// Another address may still try; many addresses together exhaust the
	// overall limit.
	if code, _ := login(t, p, adminToken, "X-Forwarded-For", "203.0.113.9"); code != http.StatusSeeOther {
		t.Errorf("the right token from another address: %d", code)
	}
	overall := 0
	for i := range 150 {
		code, _ := login(t, p, "wrong", "X-Forwarded-For", "192.0.2."+strconv.Itoa(i))
		if code == http.StatusTooManyRequests {
			overall++
		}
	}
	if overall == 0 {
		t.Error("150 wrong logins from 150 addresses: none limited by the overall limit")
	}

	for _, tok := range []string{"a", "short-token", "aaaaaaaaaaaaaaaaaaaa", "abababababababababab"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, binary, "serve", "--listen", "127.0.0.1:0", "--db", "sqlite:"+t.TempDir()+"/x.db",
			"--property", property+":"+secret, "--admin-token", tok)
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 ||
			!strings.Contains(string(out), "--admin-token") || (len(tok) > 3 && strings.Contains(string(out), tok)) {
			t.Errorf("--admin-token %q: %v, %q; want exit 2 and one line naming the flag", tok, err, out)
		}
	}
}
