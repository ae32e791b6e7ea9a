package reporting

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/metrics"
)

func TestParseTrackingID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Destination
		wantErr string
	}{
		{in: "G-ABC123XYZ:s3cr3t-Value_x", want: Destination{Protocol: GA4, ID: "G-ABC123XYZ", Secret: "s3cr3t-Value_x"}},
		{in: " UA-151671255-2 ", want: Destination{Protocol: UA, ID: "UA-151671255-2"}},
		{in: "G-ABC123", wantErr: "API secret is missing"},
		{in: "G-ABC123:", wantErr: "API secret is missing"},
		{in: "G-ABC123:two words", wantErr: "spaces"},
		{in: "g-abc:secret", wantErr: "expected G-"},
		{in: "UA-EXTRA-TRACKING-ID", wantErr: "UA-XXXXXX-Y"},
		{in: "UA-1-2:secret", wantErr: "expected G-"},
		{in: "", wantErr: "expected G-"},
	}
	for _, tc := range tests {
		got, err := ParseTrackingID(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseTrackingID(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseTrackingID(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTrackingIDErrorHidesSecret(t *testing.T) {
	t.Parallel()
	const secret = "VeryPrivateSecretValue42"
	for _, in := range []string{"g-lower:" + secret, "G-OK:" + secret + " x", "UA-1:" + secret} {
		_, err := ParseTrackingID(in)
		if err == nil {
			t.Fatalf("ParseTrackingID(%q) succeeded", in)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows the secret", err)
		}
	}
}

func TestSecretIsMaskedInFormatting(t *testing.T) {
	t.Parallel()
	d := Destination{Protocol: GA4, ID: "G-B4S18X6KY5", Secret: "Rj6lopOLQZ2HPLj50QtYeQ", Upstream: true}
	for _, s := range []string{fmt.Sprint(d), fmt.Sprintf("%v %+v %#v %s", d, d, d, d)} {
		if strings.Contains(s, d.Secret) {
			t.Errorf("formatted destination shows the secret: %s", s)
		}
	}
	log, logs := observed()
	log.Info("x", zap.Any("dest", d), zap.Object("obj", d), zap.Stringer("str", d), zap.Reflect("refl", d))
	if text := logText(logs); strings.Contains(text, d.Secret) || !strings.Contains(text, "Rj6l…(masked)") {
		t.Errorf("logged destination: %s", text)
	}
}

func TestMaskSecret(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Rj6lopOLQZ2HPLj50QtYeQ": "Rj6l…(masked)",
		"Secret":                 "…(masked)",
		"":                       "",
	} {
		if got := maskSecret(in); got != want {
			t.Errorf("maskSecret(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "https://www.google-analytics.com", want: "https://www.google-analytics.com"},
		{in: "https://region1.google-analytics.com/", want: "https://region1.google-analytics.com"},
		{in: "http://127.0.0.1:8765/prefix/", want: "http://127.0.0.1:8765/prefix"},
		{in: "ftp://host", wantErr: "scheme"},
		{in: "www.google-analytics.com", wantErr: "scheme"},
		{in: "https://", wantErr: "no host"},
		{in: "https://host/mp/collect?api_secret=x", wantErr: "no query"},
		{in: "https://user:pw@host", wantErr: "credentials"},
	}
	for _, tc := range tests {
		u, err := ParseEndpoint(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseEndpoint(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
}

func TestRequestURLs(t *testing.T) {
	t.Parallel()
	reports := []metrics.NodeReport{mimReport("mim@localhost")}
	ga4 := Destination{Protocol: GA4, ID: "G-ABC", Secret: "a b&c=d/e+f"}
	reqs, _, err := BuildRequests(ga4, "https://proxy.example:8443/ga/", "cid", time.Time{}, reports)
	if err != nil {
		t.Fatal(err)
	}
	want := "https://proxy.example:8443/ga/mp/collect?api_secret=a+b%26c%3Dd%2Fe%2Bf&measurement_id=G-ABC"
	if got := reqs[0].URL.String(); got != want {
		t.Errorf("GA4 URL = %s, want %s", got, want)
	}
	if q := reqs[0].URL.Query(); q.Get("api_secret") != ga4.Secret || q.Get("measurement_id") != "G-ABC" {
		t.Errorf("query decodes to %v", q)
	}
	if got := reqs[0].MaskedURL(); strings.Contains(got, "c%3Dd") || !strings.Contains(got, "api_secret=…(masked)") {
		t.Errorf("MaskedURL = %s", got)
	}
	reqs, _, err = BuildRequests(Destination{Protocol: UA, ID: "UA-1-2"}, "https://www.google-analytics.com", "cid", time.Time{}, reports)
	if err != nil {
		t.Fatal(err)
	}
	if got := reqs[0].URL.String(); got != "https://www.google-analytics.com/batch" {
		t.Errorf("UA URL = %s", got)
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	own := Destination{Protocol: GA4, ID: "G-OWN", Secret: "s"}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	ids := func(ds []Destination) string {
		var s []string
		for _, d := range ds {
			s = append(s, d.ID)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name     string
		targets  Targets
		server   metrics.Server
		want     string
		describe string
	}{
		{"mongooseim release", NewTargets(true, nil, env(nil)), metrics.MongooseIM, upstreamMeasurementID, "MongooseIM's Google Analytics property G-B4S18X6KY5"},
		{"mongooseim CI", NewTargets(true, nil, env(map[string]string{"CI": "true"})), metrics.MongooseIM, upstreamCIMeasurementID, "G-VB91V60SKT"},
		{"CI=1 is not CI", NewTargets(true, nil, env(map[string]string{"CI": "1"})), metrics.MongooseIM, upstreamMeasurementID, ""},
		{"mongooseim plus own", NewTargets(true, []Destination{own}, nil), metrics.MongooseIM, upstreamMeasurementID + ",G-OWN", "and to your own tracking ids: GA4 G-OWN"},
		{"upstream off", NewTargets(false, []Destination{own}, nil), metrics.MongooseIM, "G-OWN", "only to your own"},
		{"upstream off, no own", NewTargets(false, nil, nil), metrics.MongooseIM, "", "nothing is sent"},
		{"ejabberd", NewTargets(true, []Destination{own}, nil), metrics.Ejabberd, "G-OWN", "no upstream destination for ejabberd; reports go only to your own"},
		{"ejabberd, no own", NewTargets(true, nil, nil), metrics.Ejabberd, "", "only written to report.json"},
	}
	for _, tc := range tests {
		if got := ids(tc.targets.For(tc.server)); got != tc.want {
			t.Errorf("%s: For = %q, want %q", tc.name, got, tc.want)
		}
		if d := tc.targets.Describe(tc.server, "report.json"); !strings.Contains(d, tc.describe) {
			t.Errorf("%s: Describe = %q, want it to contain %q", tc.name, d, tc.describe)
		}
	}
	if d := upstreamDestination(false); !d.Upstream || d.Secret == "" || d.Protocol != GA4 {
		t.Errorf("upstreamDestination = %#v", d)
	}
}
