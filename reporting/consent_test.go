package reporting

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDoNotTrack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value   *string
		allowed bool
	}{
		{nil, true},
		{ptr(""), true},
		{ptr("0"), true},
		{ptr("1"), false},
		{ptr("true"), false},
		{ptr("yes"), false},
		{ptr("false"), false}, // anything but empty or 0 opts out
	}
	for _, tc := range tests {
		m := map[string]string{}
		name := "unset"
		if tc.value != nil {
			m["DO_NOT_TRACK"] = *tc.value
			name = "DO_NOT_TRACK=" + *tc.value
		}
		for _, report := range []bool{false, true} {
			c := ResolveConsent(report, false, env(m))
			if c.Allowed() != tc.allowed {
				t.Errorf("%s, --report=%v: Allowed() = %v, want %v", name, report, c.Allowed(), tc.allowed)
			}
			if !tc.allowed && !strings.Contains(c.Reason, "DO_NOT_TRACK") {
				t.Errorf("%s: reason %q does not name DO_NOT_TRACK", name, c.Reason)
			}
		}
	}
}

func ptr(s string) *string { return &s }

func TestResolveConsentFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		report, noReport bool
		want             Mode
	}{
		{false, false, ModeNotice},
		{true, false, ModeReport},
		{false, true, ModeNoReport},
		{true, true, ModeNoReport}, // the opt-out wins, as no_report does in MongooseIM
	}
	for _, tc := range tests {
		if got := ResolveConsent(tc.report, tc.noReport, env(nil)).Mode; got != tc.want {
			t.Errorf("report=%v no_report=%v: mode %s, want %s", tc.report, tc.noReport, got, tc.want)
		}
	}
}

// The upstream suite's log_transparency group: the notice (matched on
// "MongooseIM docs") is logged at warning level on a default start, and not
// with an explicit report or no_report.
func TestStartupNotice(t *testing.T) {
	t.Parallel()
	const file = "/var/log/mim-metrics/system_metrics_report.json"
	tests := []struct {
		name       string
		consent    Consent
		wantNotice bool
		wantGo     bool
		wantLine   string
	}{
		{name: "default", consent: ResolveConsent(false, false, env(nil)), wantNotice: true, wantGo: true},
		{name: "report", consent: ResolveConsent(true, false, env(nil)), wantGo: true},
		{name: "no_report", consent: ResolveConsent(false, true, env(nil)), wantLine: "reporting is off (--no-report)"},
		{name: "DO_NOT_TRACK", consent: ResolveConsent(false, false, env(map[string]string{"DO_NOT_TRACK": "1"})), wantLine: "DO_NOT_TRACK=1"},
		{name: "DO_NOT_TRACK beats --report", consent: ResolveConsent(true, false, env(map[string]string{"DO_NOT_TRACK": "true"})), wantLine: "DO_NOT_TRACK in the environment overrides --report"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log, logs := observed()
			if got := tc.consent.Announce(log, file); got != tc.wantGo {
				t.Errorf("Announce = %v, want %v", got, tc.wantGo)
			}
			notices := logs.FilterMessageSnippet("MongooseIM docs").All()
			if tc.wantNotice {
				if len(notices) != 1 {
					t.Fatalf("%d notices, want 1:\n%s", len(notices), logText(logs))
				}
				n := notices[0]
				if n.Level != zapcore.WarnLevel {
					t.Errorf("notice at %s, want warn", n.Level)
				}
				for _, want := range []string{file, "--report", "--no-report", "DO_NOT_TRACK=1", privacyPolicyURL, "not sent"} {
					if !strings.Contains(n.Message, want) {
						t.Errorf("notice lacks %q:\n%s", want, n.Message)
					}
				}
				if n.ContextMap()["report_filename"] != file {
					t.Errorf("notice fields %v", n.ContextMap())
				}
				return
			}
			if len(notices) != 0 {
				t.Errorf("notice logged with %s:\n%s", tc.name, logText(logs))
			}
			if tc.wantLine == "" {
				if logs.Len() != 0 {
					t.Errorf("explicit consent must be silent:\n%s", logText(logs))
				}
				return
			}
			if logs.Len() != 1 || !strings.Contains(logs.All()[0].Message, tc.wantLine) {
				t.Errorf("want one line containing %q:\n%s", tc.wantLine, logText(logs))
			}
		})
	}
}

func TestBuiltinServiceWarningOncePerNode(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	a, b, c := mimReport("a@h"), mimReport("b@h"), mimReport("c@h")
	a.BuiltinService, b.BuiltinService = true, true
	log, logs := observed()
	s := newService(t, testConfig(t, &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{a, b, c}}, ga.URL, log))
	for range 3 {
		if _, err := s.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	warnings := logs.FilterField(zapField("what", "builtin_system_metrics")).All()
	if len(warnings) != 2 {
		t.Fatalf("%d warnings, want 2 (once per node with the service):\n%s", len(warnings), logText(logs))
	}
	for i, node := range []string{"a@h", "b@h"} {
		w := warnings[i]
		if w.ContextMap()["node"] != node || w.Level != zapcore.WarnLevel ||
			!strings.Contains(w.Message, "report = false") || !strings.Contains(w.Message, "[services.service_mongoose_system_metrics]") {
			t.Errorf("warning %d: %s %v", i, w.Message, w.ContextMap())
		}
	}
}
