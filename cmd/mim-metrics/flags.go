package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// envPrefix: every flag --some-flag can also be set by MIM_METRICS_SOME_FLAG.
// Flags given on the command line win.
const envPrefix = "MIM_METRICS_"

// listFlag is a repeatable flag; from the environment it takes a
// comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// config is everything the command line says.
type config struct {
	command string

	nodes      listFlag
	cookie     string
	cookieFile string
	name       string
	discover   bool
	timeout    time.Duration
	dist       distConfig // TLS, IPv6, no EPMD (distflags.go)

	report         bool
	noReport       bool
	initialReport  time.Duration
	periodicReport time.Duration
	trackingIDs    listFlag
	receivers      listFlag
	upstream       bool
	gaEndpoint     string
	reportFile     string
	stateDir       string
	jsonOnly       bool
	metricsListen  string

	logFormat string
	logLevel  string
	version   bool

	set map[string]bool // flags given on the command line or by the environment
	cli map[string]bool // flags given on the command line
}

// intervalFlag parses Go durations and bare integers as milliseconds.
type intervalFlag struct{ d *time.Duration }

func (f intervalFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}
func (f intervalFlag) Set(s string) error {
	d, err := reporting.ParseInterval(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// timeoutFlag parses a Go duration, which needs its unit: a bare number
// is refused with a hint rather than read as nanoseconds or guessed.
// (--initial-report and --periodic-report take bare milliseconds because
// MongooseIM's options of the same names do; --timeout has no MongooseIM
// counterpart, and "5" would most likely mean seconds.)
type timeoutFlag struct{ d *time.Duration }

func (f timeoutFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}
func (f timeoutFlag) Set(s string) error {
	t := strings.TrimSpace(s)
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return fmt.Errorf("%q needs a unit: write %ss for seconds or %sms for milliseconds", s, t, t)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it with its unit, e.g. 30s, 2m or 1m30s", s)
	}
	*f.d = d
	return nil
}

// usageError is bad input: the program prints it and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

var commands = []struct{ name, help string }{
	{"run", "report on MongooseIM's schedule until stopped (the default)"},
	{"once", "collect and report one cycle now; exit 0 when every destination accepted"},
	{"preview", "print the reports and the exact requests that would be sent; send nothing"},
	{"check", "connect, discover the members and print one line per member"},
	{"version", "print the version"},
}

func newFlagSet(c *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mim-metrics", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	home, _ := os.UserHomeDir()
	c.initialReport, c.periodicReport = reporting.DefaultInitialDelay, reporting.DefaultPeriod
	fs.Var(&c.nodes, "node", "a MongooseIM or ejabberd node, as name@host (repeatable); the others are discovered from it")
	fs.StringVar(&c.cookieFile, "cookie-file", filepath.Join(home, ".erlang.cookie"), "file holding the cluster's Erlang cookie (mode 0400 or 0600)")
	fs.StringVar(&c.cookie, "cookie", "", "the cluster's Erlang cookie (visible in ps: prefer --cookie-file or MIM_METRICS_COOKIE)")
	fs.StringVar(&c.name, "name", "", "our own hidden node name (default mim_metrics_<random>@localhost, or @127.0.0.1 for long names)")
	fs.BoolVar(&c.discover, "discover", true, "also report the members the given nodes are connected to; false reports only --node (one sidecar per node)")
	c.timeout = 30 * time.Second
	fs.Var(timeoutFlag{&c.timeout}, "timeout", "time limit for collecting the cluster once: a duration with its unit, e.g. 30s or 2m")
	fs.BoolVar(&c.report, "report", false, "explicit consent: report and skip the start-up notice")
	fs.BoolVar(&c.noReport, "no-report", false, "collect and send nothing, then exit (DO_NOT_TRACK=1 does the same)")
	fs.Var(intervalFlag{&c.initialReport}, "initial-report", "delay before the first report: a Go duration or milliseconds (default 5m)")
	fs.Var(intervalFlag{&c.periodicReport}, "periodic-report", "time between reports: a Go duration or milliseconds (default 3h)")
	fs.Var(&c.trackingIDs, "tracking-id", "also send to your own property: G-XXXX:API_SECRET (GA4) or UA-XXXX-Y (legacy) (repeatable)")
	fs.Var(&c.receivers, "receiver", "also send to your own receiver (mim-metrics-receiver): https://G-XXXX:SECRET@metrics.example.org, the property id and secret in the URL (repeatable)")
	fs.BoolVar(&c.upstream, "upstream", true, "send to the MongooseIM project's Google Analytics property (MongooseIM clusters only)")
	fs.StringVar(&c.gaEndpoint, "ga-endpoint", reporting.DefaultEndpoint, "Google Analytics base URL; https://region1.google-analytics.com keeps data in the EU")
	fs.StringVar(&c.reportFile, "report-file", reporting.DefaultReportFile, "where the last report is written")
	fs.StringVar(&c.stateDir, "state-dir", defaultStateDir(), "directory for the Cluster ID of clusters that have none")
	fs.BoolVar(&c.jsonOnly, "json", false, "preview: print only the reports as JSON")
	fs.StringVar(&c.metricsListen, "metrics-listen", "", "run: serve /metrics (Prometheus), /healthz and /readyz on this host:port, e.g. 127.0.0.1:9090 (off when empty)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	addDistFlags(fs, &c.dist)
	// The flag package prints the usage on every parse error; we print one
	// line instead, and the usage only for --help.
	fs.Usage = func() {}
	return fs
}

func defaultStateDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "mim-metrics")
	}
	return ".mim-metrics"
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "mim-metrics: MongooseIM's system metrics, reported from a hidden Erlang node beside the cluster.\n\n")
	fmt.Fprintf(w, "Usage: mim-metrics [command] --node name@host [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.help)
	}
	fmt.Fprintf(w, "\nFlags (each also settable as the environment variable shown; flags win):\n")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		f := fs.Lookup(n)
		def := f.DefValue
		if n == "initial-report" || n == "periodic-report" {
			def = ""
		}
		fmt.Fprintf(w, "  --%s  [%s]\n      %s", n, envName(n), f.Usage)
		if def != "" && def != "false" && def != "[]" {
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nExit codes: 0 success, 1 runtime failure, 2 bad usage.\n")
}

// parseArgs reads the command, the flags and the environment.
func parseArgs(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{command: "run", set: map[string]bool{}, cli: map[string]bool{}}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.command = args[0]
		args = args[1:]
		known := false
		for _, k := range commands {
			known = known || k.name == c.command
		}
		if c.command == "help" {
			printUsage(newFlagSet(c, stderr), stderr)
			return nil, flag.ErrHelp
		}
		if !known {
			return nil, usagef("unknown command %q: use run, once, preview, check or version (see --help)", c.command)
		}
	}
	fs := newFlagSet(c, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, stderr)
			return nil, err
		}
		return nil, usagef("%s", flagError(err))
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q: flags start with --, and the command comes first (see --help)", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { c.set[f.Name], c.cli[f.Name] = true, true })
	// The environment fills what the command line left unset.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if c.set[f.Name] || envErr != nil {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		values := []string{v}
		if f.Name == "node" || f.Name == "tracking-id" || f.Name == "receiver" || f.Name == "ssl-dist-opt" {
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if err := fs.Set(f.Name, strings.TrimSpace(one)); err != nil {
				// Only our own Values and the booleans can fail; ours name
				// the value, and no secret is in either.
				if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
					envErr = usagef("%s takes true or false, got %q", envName(f.Name), one)
				} else {
					envErr = usagef("%s: %v", envName(f.Name), err)
				}
				return
			}
		}
		c.set[f.Name] = true
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := c.dist.readErlDistPort(c.set, getenv); err != nil {
		return nil, err
	}
	return c, c.validate()
}

// validate checks what can be checked before anything starts.
func (c *config) validate() error {
	if c.version || c.command == "version" {
		return nil
	}
	if len(c.nodes) == 0 {
		return usagef("no node given: name a cluster node with --node name@host (or MIM_METRICS_NODE)")
	}
	var first node.ParsedName
	for i, n := range c.nodes {
		p, err := node.ParseName(n)
		if err != nil {
			return usagef("--node: %v", err)
		}
		if i == 0 {
			first = p
		} else if p.Long != first.Long {
			return usagef("--node %s and --node %s mix short and long names: an Erlang cluster uses one kind; give the names as the nodes were started (-sname or -name)", c.nodes[0], n)
		}
	}
	if c.name != "" {
		if _, err := node.ParseName(c.name); err != nil {
			return usagef("--name: %v", err)
		}
	}
	if c.timeout <= 0 {
		return usagef("--timeout must be positive, got %v", c.timeout)
	}
	if c.periodicReport <= 0 {
		return usagef("--periodic-report must be positive, got %v", c.periodicReport)
	}
	for _, id := range c.trackingIDs {
		if _, err := reporting.ParseTrackingID(id); err != nil {
			return usagef("--tracking-id: %v", err)
		}
	}
	for _, r := range c.receivers {
		if _, err := reporting.ParseReceiverURL(r); err != nil {
			return usagef("--receiver: %v", err)
		}
	}
	if _, err := reporting.ParseEndpoint(c.gaEndpoint); err != nil {
		return usagef("--ga-endpoint: %v", err)
	}
	if c.metricsListen != "" {
		if err := checkListenAddr(c.metricsListen); err != nil {
			return usagef("--metrics-listen: %v", err)
		}
	}
	switch c.logFormat {
	case "text", "json":
	default:
		return usagef("--log-format must be text or json, got %q", c.logFormat)
	}
	switch c.logLevel {
	case "debug", "info", "warn", "error":
	default:
		return usagef("--log-level must be debug, info, warn or error, got %q", c.logLevel)
	}
	return c.dist.validate(c.nodes)
}

// checkListenAddr checks a host:port to listen on.
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:9090, or :9090 for every interface)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 0 to 65535", addr)
	}
	return nil
}

// The flag package's error messages, which name flags with one dash and
// say "parse error" where our own Values say what is wrong.
var (
	flagUnknown   = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	flagNeedsArg  = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	flagBadValue  = regexp.MustCompile(`^invalid value (".*") for flag -+([^:]*): (.*)$`)
	flagBadBool   = regexp.MustCompile(`^invalid boolean (?:value (".*") for|flag) -*([^:]*): .*$`)
	flagBadSyntax = regexp.MustCompile(`^bad flag syntax: (.*)$`)
)

// flagError turns an error of flag.FlagSet.Parse into our one line: the
// flag as it is written (--name), what is wrong and what to write.
func flagError(err error) string {
	msg := err.Error()
	if m := flagUnknown.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown flag --%s: mim-metrics --help lists the flags", m[1])
	}
	if m := flagNeedsArg.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s needs a value: --%s VALUE or --%s=VALUE", m[1], m[1], m[1])
	}
	if m := flagBadBool.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s takes true or false (--%s=false), got %s", m[2], m[2], m[1])
	}
	if m := flagBadValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s: %s", m[2], m[3])
	}
	if m := flagBadSyntax.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("bad flag %s: write flags as --name or --name=value", m[1])
	}
	return msg + " (see --help)"
}
