package reporting

import (
	"fmt"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// Mode is the user's choice about reporting.
type Mode int

// Modes, as in MongooseIM's report_transparency.
const (
	// ModeNotice is the default: report, and log the notice on every start.
	ModeNotice Mode = iota
	// ModeReport is explicit consent (--report): report silently.
	ModeReport
	// ModeNoReport is an opt-out (--no-report or DO_NOT_TRACK): nothing is
	// collected or sent.
	ModeNoReport
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case ModeReport:
		return "report"
	case ModeNoReport:
		return "no_report"
	default:
		return "default"
	}
}

// Consent is the resolved reporting mode and what decided it.
type Consent struct {
	// Mode is what to do.
	Mode Mode
	// Reason names what decided it, for the log: "--report",
	// "--no-report", "DO_NOT_TRACK=1 in the environment" or "default".
	Reason string
	// Overridden names a flag the environment overrode (DO_NOT_TRACK beats
	// --report), empty otherwise.
	Overridden string
}

// doNotTrack reports whether the DO_NOT_TRACK convention asks not to track:
// the variable is set to anything but the empty string or "0".
func doNotTrack(getenv func(string) string) (value string, set bool) {
	if getenv == nil {
		return "", false
	}
	v := getenv("DO_NOT_TRACK")
	if t := strings.TrimSpace(v); t == "" || t == "0" {
		return v, false
	}
	return v, true
}

// ResolveConsent decides the mode from the --report and --no-report flags
// and the environment (getenv, usually os.Getenv). An opt-out always wins:
// --no-report beats --report (as no_report does in MongooseIM), and
// DO_NOT_TRACK beats both.
func ResolveConsent(report, noReport bool, getenv func(string) string) Consent {
	if v, ok := doNotTrack(getenv); ok {
		c := Consent{Mode: ModeNoReport, Reason: fmt.Sprintf("DO_NOT_TRACK=%s in the environment", v)}
		if report && !noReport {
			c.Overridden = "--report"
		}
		return c
	}
	switch {
	case noReport:
		return Consent{Mode: ModeNoReport, Reason: "--no-report"}
	case report:
		return Consent{Mode: ModeReport, Reason: "--report"}
	default:
		return Consent{Mode: ModeNotice, Reason: "default"}
	}
}

// Allowed reports whether anything may be collected and sent.
func (c Consent) Allowed() bool { return c.Mode != ModeNoReport }

// privacyPolicyURL is MongooseIM's system metrics privacy policy.
const privacyPolicyURL = "https://esl.github.io/MongooseDocs/latest/operation-and-maintenance/System-Metrics-Privacy-Policy/"

// noticeText is the start-up notice of the default mode: MongooseIM's
// report_transparency text adapted to mim-metrics' flags. It says what is
// gathered, where the last report is written, and how to silence the notice
// or opt out.
func noticeText(reportFile string) string {
	return "mim-metrics is gathering this cluster's system metrics, as MongooseIM's service_mongoose_system_metrics does, " +
		"so that the MongooseIM team can analyse the trends and needs of its users, improve MongooseIM, and know where to focus its efforts. " +
		"Gathered from every node: host type and domain counts, known modules and their backends, " +
		"the number of custom modules, uptime, version, the numbers of nodes and of XMPP components, HTTP APIs, transports, " +
		"TLS mode, outgoing pool types, XMPP stanza counts and the config type, and sends them to Google Analytics " +
		"(MongooseIM's property for MongooseIM clusters, and your own --tracking-id properties) with the Cluster ID as client id; " +
		"node and host names are not sent, Google sees this machine's IP address. " +
		"For more info on how to customise, read, enable, and disable these metrics visit: \n" +
		"- MongooseIM docs - \n      " + privacyPolicyURL + " \n" +
		"- MongooseIM GitHub page - https://github.com/esl/MongooseIM \n" +
		"The last sent report is also written to a file " + reportFile + " \n" +
		"To silence this notice, start with --report. To opt out, start with --no-report or set DO_NOT_TRACK=1."
}

// Announce logs what the consent means, once at start-up, and reports
// whether reporting may go on:
//   - default: the notice (noticeText) at WARN, as MongooseIM does on every
//     start; returns true;
//   - --report: nothing; returns true;
//   - opt-out: one INFO line naming what opted out; returns false, and the
//     command should exit 0 without connecting to the cluster.
func (c Consent) Announce(log *zap.Logger, reportFile string) bool {
	if log == nil {
		log = zap.NewNop()
	}
	switch c.Mode {
	case ModeReport:
		return true
	case ModeNoReport:
		msg := "reporting is off (" + c.Reason + "): nothing is collected or sent"
		if c.Overridden != "" {
			msg = "reporting is off: DO_NOT_TRACK in the environment overrides " + c.Overridden + "; nothing is collected or sent"
		}
		log.Info(msg, zap.String("what", "report_transparency"), zap.String("consent", c.Mode.String()))
		return false
	default:
		log.Warn(noticeText(reportFile), zap.String("what", "report_transparency"), zap.String("report_filename", reportFile))
		return true
	}
}

// builtinWarner warns, once per node per run, that MongooseIM's own
// service reports too.
type builtinWarner struct {
	mu     sync.Mutex
	warned map[string]bool
}

func (w *builtinWarner) check(log *zap.Logger, reports []metrics.NodeReport) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range reports {
		if !r.BuiltinService || w.warned[r.Node] {
			continue
		}
		if w.warned == nil {
			w.warned = map[string]bool{}
		}
		w.warned[r.Node] = true
		log.Warn("MongooseIM's own system metrics service (service_mongoose_system_metrics) runs on this node and reports too, "+
			"so this cluster's reports are doubled. To turn it off there, set report = false in the "+
			"[services.service_mongoose_system_metrics] section of mongooseim.toml (no_report in a 3.x/4.0 mongooseim.cfg)",
			zap.String("what", "builtin_system_metrics"), zap.String("node", r.Node))
	}
}
