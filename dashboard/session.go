package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Guard limits guesses of the admin token and says whether a request came
// over HTTPS (receiver.AdminGuard, shared with the reports API).
type Guard interface {
	// Blocked is how long r's address must wait before another try.
	Blocked(r *http.Request) time.Duration
	// Failed counts a wrong token from r's address.
	Failed(r *http.Request)
	// IsHTTPS: r came over HTTPS, directly or through a trusted proxy.
	IsHTTPS(r *http.Request) bool
}

// sessionTTL is how long an admin login lasts, on the server's side.
const sessionTTL = 12 * time.Hour

// sessionIDBytes is the entropy of a session id (the cookie's value).
const sessionIDBytes = 32

// crossOrigin refuses state-changing requests (login, logout) from
// another site's pages.
var crossOrigin = http.NewCrossOriginProtection()

// sessionKey is what the store keeps for session id: an HMAC keyed by the
// admin token, so that a new token ends every session and neither the id
// nor the token is stored.
func (d *dashboard) sessionKey(id string) string {
	m := hmac.New(sha256.New, []byte(d.token))
	m.Write([]byte("mim-metrics admin session v2\x00" + id))
	return hex.EncodeToString(m.Sum(nil))
}

// validSession says whether r's cookie is a live admin session.
func (d *dashboard) validSession(r *http.Request) bool {
	c, err := r.Cookie(adminCookie)
	if err != nil || len(c.Value) != base64.RawURLEncoding.EncodedLen(sessionIDBytes) {
		return false
	}
	ctx, cancel := d.ctx(r)
	defer cancel()
	ok, err := d.st.SessionValid(ctx, d.sessionKey(c.Value), d.now())
	if err != nil {
		d.log.Warn("dashboard: an admin session could not be checked", zap.Error(err))
		return false
	}
	return ok
}

// isHTTPS says whether r came over HTTPS (the cookie is then Secure).
func (d *dashboard) isHTTPS(r *http.Request) bool {
	if d.guard != nil {
		return d.guard.IsHTTPS(r)
	}
	return r.TLS != nil
}

// guessesBlocked answers 429 and returns true when r's address (or
// everyone) has had too many wrong tokens.
func (d *dashboard) guessesBlocked(w http.ResponseWriter, r *http.Request) bool {
	if d.guard == nil {
		return false
	}
	wait := d.guard.Blocked(r)
	if wait <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(wait.Seconds()+0.999))))
	d.fail(w, r, http.StatusTooManyRequests, "Too many wrong admin tokens: try again later.")
	return true
}

// bearerGuessBlocked is guessesBlocked for requests with a bearer token.
func (d *dashboard) bearerGuessBlocked(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return false
	}
	return d.guessesBlocked(w, r)
}

// refuseCrossOrigin answers 403 and returns true for a request from
// another site's page.
func (d *dashboard) refuseCrossOrigin(w http.ResponseWriter, r *http.Request) bool {
	if err := crossOrigin.Check(r); err != nil {
		d.fail(w, r, http.StatusForbidden, "Refused: this form was sent from another site.")
		return true
	}
	return false
}

// login starts an admin session when the form's token is right.
func (d *dashboard) login(w http.ResponseWriter, r *http.Request) {
	f, _ := parseFilter(nil, d.now())
	if d.token == "" {
		d.fail(w, r, http.StatusNotFound, "The admin view is off: start the receiver with --admin-token.")
		return
	}
	if d.refuseCrossOrigin(w, r) || d.guessesBlocked(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil || !d.tokenMatches(r.PostFormValue("token")) {
		if d.guard != nil {
			d.guard.Failed(r)
		}
		data := adminData{base: d.base(r, "Admin login", f, nil), LoginFailed: true}
		data.Path = "/admin" // the page's filter form leads to the admin page
		d.render(w, r, http.StatusForbidden, "login", data)
		return
	}
	raw := make([]byte, sessionIDBytes)
	_, _ = rand.Read(raw) // never fails (crypto/rand)
	id := base64.RawURLEncoding.EncodeToString(raw)
	now := d.now()
	ctx, cancel := d.ctx(r)
	defer cancel()
	if err := d.st.AddSession(ctx, d.sessionKey(id), now, now.Add(sessionTTL)); err != nil {
		d.unavailable(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: d.isHTTPS(r), SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

// logout ends the session on the server and in the browser.
func (d *dashboard) logout(w http.ResponseWriter, r *http.Request) {
	if d.refuseCrossOrigin(w, r) {
		return
	}
	if c, err := r.Cookie(adminCookie); err == nil && d.token != "" {
		ctx, cancel := d.ctx(r)
		defer cancel()
		if err := d.st.DeleteSession(ctx, d.sessionKey(c.Value)); err != nil {
			d.unavailable(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: adminCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: d.isHTTPS(r), SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// adminCheck is a request's authentication, done once however many times
// the handlers ask (a wrong bearer token counts as one guess).
type adminCheck struct {
	once sync.Once
	ok   bool
}

type adminCheckKey struct{}

func withAdminCheck(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), adminCheckKey{}, &adminCheck{}))
}

func (d *dashboard) checkAdminOnce(r *http.Request) bool {
	c, ok := r.Context().Value(adminCheckKey{}).(*adminCheck)
	if !ok {
		return d.authenticate(r)
	}
	c.once.Do(func() { c.ok = d.authenticate(r) })
	return c.ok
}

// authenticate: a bearer token (compared in constant time, its guesses
// limited) or the cookie of a live session.
func (d *dashboard) authenticate(r *http.Request) bool {
	if d.token == "" {
		return false
	}
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if d.guard != nil && d.guard.Blocked(r) > 0 {
			return false
		}
		if !d.tokenMatches(auth) {
			if d.guard != nil {
				d.guard.Failed(r)
			}
			return false
		}
		return true
	}
	return d.validSession(r)
}
