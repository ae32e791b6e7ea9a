package dashboard_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Usability checks of the browser test: links that keep the filters, the
// layout at a phone's and a desktop's width, label sizes and contrast read
// from computed styles.

// widths are the windows every page is checked at.
var widths = []struct {
	name          string
	width, height int64
}{{"desktop", 1366, 900}, {"phone", 390, 844}}

func (b *browser) resize(t *testing.T, w, h int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatalf("resize to %dx%d: %v", w, h, err)
	}
}

type pageLink struct {
	Href, Text string
	Index      int
}

// checkLinks checks, on every page of start (URLs with the filter want),
// that every link keeps the filter; it clicks each link to a page once
// (from the first page that has it) and checks the page it leads to shows
// the same filter; API links are fetched.
func checkLinks(t *testing.T, b *browser, srv *testServer, start []string, want url.Values, admin bool) {
	t.Helper()
	clicked := map[string]bool{}
	fetched := map[string]bool{}
	for _, u := range start {
		b.open(t, u)
		links := eval[[]pageLink](t, b, `Array.from(document.querySelectorAll("a[href]")).map((a, i) => ({Href: a.href, Text: a.textContent.trim().slice(0, 40), Index: i}))`)
		if len(links) < 5 {
			t.Errorf("%s: only %d links", u, len(links))
		}
		for _, l := range links {
			target, err := url.Parse(l.Href)
			if err != nil {
				t.Errorf("%s: link %q: %v", u, l.Href, err)
				continue
			}
			if !strings.HasPrefix(l.Href, srv.url) {
				t.Errorf("%s: link %q (%s) leaves the dashboard", u, l.Href, l.Text)
				continue
			}
			q := target.Query()
			for k := range want {
				if q.Get(k) != want.Get(k) {
					t.Errorf("%s: link %q (%s) has %s=%q, want %q", u, l.Href, l.Text, k, q.Get(k), want.Get(k))
				}
			}
			target.Fragment = ""
			key := target.String()
			switch {
			case strings.HasPrefix(target.Path, "/api/"):
				if !fetched[key] {
					fetched[key] = true
					checkAPILink(t, key, want, admin)
				}
			case !clicked[pageKind(target.Path)] && key != strings.SplitN(u, "#", 2)[0]:
				// One click per page (a cluster's or module's page stands
				// for all of them; their links' filters are checked above).
				clicked[pageKind(target.Path)] = true
				clickAndCheck(t, b, u, l, key, want, admin)
			}
		}
	}
	if len(clicked) < 5 {
		t.Errorf("only %d distinct pages reached by clicking", len(clicked))
	}
}

// clickAndCheck clicks the link on page from, waits for the page it leads
// to, checks the filter form shows the filter, and goes back.
func clickAndCheck(t *testing.T, b *browser, from string, l pageLink, target string, want url.Values, admin bool) {
	t.Helper()
	if eval[string](t, b, `location.href.split("#")[0]`) != strings.SplitN(from, "#", 2)[0] {
		b.open(t, from)
	}
	eval[bool](t, b, `(document.querySelectorAll("a[href]")[`+itoa(l.Index)+`].click(), true)`)
	waitFor(t, b, `location.href.split("#")[0] === `+jsString(target)+` && document.readyState === "complete" && document.querySelector("footer") !== null`)
	if u, _ := url.Parse(target); !admin && strings.HasPrefix(u.Path, "/admin") {
		b.settleStatus(t, target, http.StatusUnauthorized) // the login form
	} else {
		b.settle(t, target)
	}
	form := eval[map[string]string](t, b, `Object.fromEntries(Array.from(document.querySelectorAll("form.filters select")).map(s => [s.name, s.value]))`)
	for k := range want {
		if k == "version" && !admin {
			continue // the public view has no version filter
		}
		if form[k] != want.Get(k) {
			t.Errorf("clicked %q on %s: the page at %s shows %s=%q, want %q", l.Text, from, target, k, form[k], want.Get(k))
		}
	}
	b.open(t, from)
}

func checkAPILink(t *testing.T, u string, want url.Values, admin bool) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if admin {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", u, resp.Status)
		return
	}
	path, _, _ := strings.Cut(u, "?")
	switch {
	case strings.HasSuffix(path, ".json"):
		var c struct {
			Period int    `json:"period_days"`
			Kind   string `json:"kind"`
		}
		if err := json.Unmarshal(body, &c); err != nil || itoa(c.Period) != want.Get("period") || c.Kind != want.Get("kind") {
			t.Errorf("GET %s: period %d kind %q (%v), want the link's filter", u, c.Period, c.Kind, err)
		}
	case strings.HasSuffix(path, ".svg"):
		if ct := resp.Header.Get("Content-Type"); ct != "image/svg+xml" {
			t.Errorf("GET %s: Content-Type %q", u, ct)
		}
		dec := xml.NewDecoder(strings.NewReader(string(body)))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Errorf("GET %s: not well-formed SVG: %v", u, err)
				break
			}
		}
		if !strings.Contains(string(body), "<svg") || !strings.Contains(string(body), "<path") && !strings.Contains(string(body), "<rect") {
			t.Errorf("GET %s: no drawing in the SVG", u)
		}
	}
}

// layoutProblems lists what is wrong with the page's layout at its width:
// the page wider than the window, an element cut off (outside a box that
// scrolls), a chart not drawn the width of its box, a label under 11 px
// (SVG text as drawn, after the SVG's scaling), a text under WCAG AA
// contrast against its background, a name that would break mid-word.
const layoutProblems = `(() => {
	const out = [];
	const W = window.innerWidth;
	if (document.documentElement.scrollWidth > W + 1) out.push("page " + document.documentElement.scrollWidth + " px wide in a " + W + " px window");
	const visible = e => { const r = e.getClientRects(); return r.length > 0 && r[0].width > 0 && getComputedStyle(e).visibility !== "hidden"; };
	const scrolls = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === "auto" || o === "scroll" || o === "hidden") return true; } return false; };
	const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + String(e.className).split(" ").join(".") : "") + " " + JSON.stringify((e.textContent || "").trim().slice(0, 30));
	for (const e of document.body.querySelectorAll("*")) {
		if (!visible(e) || e.closest(".skip, svg.defs, title") || e.tagName === "title") continue;
		const r = e.getBoundingClientRect();
		if ((r.right > W + 1 || r.left < -1) && !scrolls(e)) out.push("cut off: " + name(e) + " at " + Math.round(r.left) + "–" + Math.round(r.right));
	}
	for (const svg of document.querySelectorAll("svg.plot")) {
		if (!visible(svg)) continue;
		const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
		const box = svg.closest(".plots").getBoundingClientRect().width;
		if (svg.getBoundingClientRect().width < Math.min(box, svg.viewBox.baseVal.width) - 2) out.push("chart " + svg.getAttribute("aria-label") + " not the width of its box");
		for (const t of svg.querySelectorAll("text")) {
			const px = parseFloat(getComputedStyle(t).fontSize) * scale;
			if (px < 10.95) { out.push("label " + JSON.stringify(t.textContent.slice(0, 20)) + " of " + svg.getAttribute("aria-label") + " drawn at " + px.toFixed(1) + " px"); break; }
		}
	}
	const rgb = s => { const m = s.match(/[\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; };
	const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
	const background = e => { for (let p = e; p; p = p.parentElement) { const c = rgb(getComputedStyle(p).backgroundColor); if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };
	for (const e of document.body.querySelectorAll("*")) {
		if (!visible(e) || e.closest(".skip, svg.defs, title")) continue;
		const own = Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim() !== "");
		if (!own) continue;
		const cs = getComputedStyle(e);
		const inSVG = e.closest("svg") !== null;
		if (!inSVG && parseFloat(cs.fontSize) < 11) out.push("text under 11 px: " + name(e) + " " + cs.fontSize);
		const fg = rgb(inSVG ? cs.fill : cs.color);
		const bg = inSVG ? [255, 255, 255] : background(e);
		const a = lum(fg), b = lum(bg);
		const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
		const large = parseFloat(cs.fontSize) >= 24 || (parseFloat(cs.fontSize) >= 18.66 && Number(cs.fontWeight) >= 700);
		if (ratio < (large ? 3 : 4.5)) out.push("contrast " + ratio.toFixed(2) + ": " + name(e));
	}
	for (const th of document.querySelectorAll("table th, table td")) {
		if (getComputedStyle(th).overflowWrap === "anywhere") { out.push("a cell may break mid-word: " + name(th)); break; }
		if (th.textContent.includes("_") && !th.querySelector("wbr") && th.closest("section[data-chart]")) { out.push("no break point after _: " + name(th)); break; }
	}
	return out.slice(0, 20);
})()`

func checkLayout(t *testing.T, b *browser, what string) {
	t.Helper()
	for _, p := range eval[[]string](t, b, layoutProblems) {
		t.Errorf("%s: %s", what, p)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// pageKind is a page's path, every module's page as one.
func pageKind(path string) string {
	if strings.HasPrefix(path, "/modules/") {
		return "/modules/"
	}
	return path
}
