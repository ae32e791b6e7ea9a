package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/disclosure"
	"github.com/mim-metrics/mim-metrics/receiver"
	"github.com/mim-metrics/mim-metrics/store"
)

// envPrefix: every flag --some-flag can also be set by
// MIM_RECEIVER_SOME_FLAG. Flags given on the command line win.
const envPrefix = "MIM_RECEIVER_"

// listFlag is a repeatable flag; from the environment it takes a
// comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// retentionFlag is a duration that also takes days ("90d").
type retentionFlag struct{ d *time.Duration }

func (f retentionFlag) String() string {
	if f.d == nil {
		return ""
	}
	return formatRetention(*f.d)
}

func (f retentionFlag) Set(s string) error {
	d, err := parseRetention(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100_000 {
			return 0, fmt.Errorf("invalid retention %q: expected days such as 90d, or a duration such as 2160h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid retention %q: expected days such as 90d, or a duration such as 2160h", s)
	}
	return d, nil
}

func formatRetention(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// config is everything the command line says.
type config struct {
	command string
	files   []string

	listen          string
	dashboardListen string
	db              string
	properties      listFlag
	adminToken      string
	retention       time.Duration
	geoipDB         string
	trustedProxies  listFlag
	maxClusters     int
	minClusters     int
	clientBurst     int
	addressBurst    int

	importProperty string
	importKind     string
	clientID       string
	since, until   string

	logFormat string
	logLevel  string
	version   bool

	// parsed
	props   []receiver.Property
	proxies []netip.Prefix
	from    time.Time
	to      time.Time
}

// usageError is bad input: the program prints it and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

var commands = []struct{ name, args, help string }{
	{"serve", "", "accept reports over HTTP and serve the dashboard until stopped (the default)"},
	{"import", "FILE...", "store system_metrics_report.json files (the sidecar's or MongooseIM's; - reads stdin)"},
	{"export", "", "print every stored raw event as JSON lines (--since, --until)"},
	{"version", "", "print the version"},
}

func newFlagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(progName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.retention = 90 * 24 * time.Hour
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "address to accept reports on (and to serve the dashboard on, unless --dashboard-listen)")
	fs.StringVar(&c.dashboardListen, "dashboard-listen", "", "serve the dashboard on this address instead of --listen")
	fs.StringVar(&c.db, "db", "sqlite:./mim-metrics.db", "the database: sqlite:FILE or postgres://user:password@host/db")
	fs.Var(&c.properties, "property", "a property to accept: G-XXXX:SECRET[:production|ci] (GA4) or UA-XXXX-N[:production|ci] (repeatable; kind default production)")
	fs.StringVar(&c.adminToken, "admin-token", "", "token of the reports API (POST /api/v1/reports) and of the dashboard's admin view; empty: both disabled")
	fs.Var(retentionFlag{&c.retention}, "retention", "how long raw events are kept, in days (90d) or as a duration; roll-ups are kept forever (default 90d)")
	fs.StringVar(&c.geoipDB, "geoip-db", "", "a GeoLite2/GeoIP2 Country or City .mmdb file: the sender's country is kept, never its address")
	fs.Var(&c.trustedProxies, "trusted-proxy", "a proxy range (CIDR) whose X-Forwarded-For is believed (repeatable)")
	fs.IntVar(&c.maxClusters, "max-clusters-per-address", receiver.DefaultMaxClustersPerAddress, "distinct client ids one source address may add to the counts per UTC day; more are stored, not counted")
	fs.IntVar(&c.clientBurst, "client-burst", receiver.DefaultClientLimit.Burst, "requests one client id may send at once (the bucket refills in 25 minutes); beyond: 429")
	fs.IntVar(&c.addressBurst, "address-burst", receiver.DefaultAddressLimit.Burst, "requests one source address may send at once (refilled in 25 minutes); beyond: 429")
	fs.IntVar(&c.minClusters, "min-clusters", dashboard.DefaultMinClusters, "the public dashboard shows no count of fewer clusters, nor one that could be worked out (at least 3)")
	fs.StringVar(&c.importProperty, "import-property", receiver.DefaultImportProperty, "import: the property stored with imported reports")
	fs.StringVar(&c.importKind, "import-kind", string(store.Production), "import: the kind of imported reports, production or ci")
	fs.StringVar(&c.clientID, "client-id", "", "import: the cluster's id, for MongooseIM's own report files (they carry none)")
	fs.StringVar(&c.since, "since", "", "export: from this date (2006-01-02) or RFC 3339 time, inclusive")
	fs.StringVar(&c.until, "until", "", "export: up to this date or time, exclusive (a date: up to its end)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	fs.Usage = func() {}
	return fs
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// secretFlags are never echoed in errors.
var secretFlags = map[string]bool{"property": true, "admin-token": true, "db": true}

func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "%s: keeps MongooseIM's system metrics reports without Google, and draws them.\n\n", progName)
	fmt.Fprintf(w, "Usage: %s [command] [flags]\n\nCommands:\n", progName)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-16s %s\n", strings.TrimSpace(c.name+" "+c.args), c.help)
	}
	fmt.Fprintf(w, "\nEndpoints (serve):\n")
	for _, e := range [][2]string{
		{"POST /mp/collect", "GA4 Measurement Protocol (measurement_id, api_secret in the URL)"},
		{"POST /debug/mp/collect", "GA4 validation: stores nothing, answers validationMessages"},
		{"POST /batch, /collect", "Universal Analytics hits (MongooseIM 3.6-6.0)"},
		{"POST /api/v1/reports", "a report file, with Authorization: Bearer <admin token>"},
		{"GET /healthz", "200 when the database answers, else 503"},
		{"GET /", "the dashboard"},
	} {
		fmt.Fprintf(w, "  %-23s %s\n", e[0], e[1])
	}
	fmt.Fprintf(w, "\nFlags (each also settable as the environment variable shown; flags win):\n")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		f := fs.Lookup(n)
		fmt.Fprintf(w, "  --%s  [%s]\n      %s", n, envName(n), f.Usage)
		if def := f.DefValue; def != "" && def != "false" && n != "retention" {
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nExit codes: 0 success, 1 runtime failure, 2 bad usage.\n")
}

// parseArgs reads the command, the flags and the environment.
func parseArgs(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{command: "serve"}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.command = args[0]
		args = args[1:]
		if c.command == "help" {
			printUsage(newFlagSet(c), stderr)
			return nil, flag.ErrHelp
		}
		known := false
		for _, k := range commands {
			known = known || k.name == c.command
		}
		if !known {
			return nil, usagef("unknown command %q: use serve, import, export or version (see --help)", c.command)
		}
	}
	fs := newFlagSet(c)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, stderr)
			return nil, err
		}
		return nil, usagef("%v (see --help)", err)
	}
	// import takes files; flags may follow them.
	for fs.NArg() > 0 {
		if c.command != "import" {
			return nil, usagef("unexpected argument %q: flags start with --, and the command comes first (see --help)", fs.Arg(0))
		}
		c.files = append(c.files, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return nil, usagef("%v (see --help)", err)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || envErr != nil {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		values := []string{v}
		if f.Name == "property" || f.Name == "trusted-proxy" {
			values = strings.Split(v, ",")
		}
		for _, one := range values {
			if err := fs.Set(f.Name, strings.TrimSpace(one)); err != nil {
				shown := one
				if secretFlags[f.Name] {
					shown = "(hidden)"
				}
				envErr = usagef("invalid value %s for %s: %v", shown, envName(f.Name), err)
				return
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	return c, c.validate()
}

// validate checks what can be checked before anything starts.
func (c *config) validate() error {
	if c.version || c.command == "version" {
		return nil
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
	if !strings.HasPrefix(c.db, "sqlite:") && !strings.HasPrefix(c.db, "postgres://") && !strings.HasPrefix(c.db, "postgresql://") {
		return usagef("--db must be sqlite:FILE or postgres://user:password@host/db")
	}
	if c.db == "sqlite:" {
		return usagef("--db sqlite: needs a file name, as in sqlite:./mim-metrics.db")
	}
	for _, p := range c.properties {
		prop, err := receiver.ParseProperty(p)
		if err != nil {
			return usagef("--property: %v", err)
		}
		c.props = append(c.props, prop)
	}
	switch c.command {
	case "serve":
		return c.validateServe()
	case "import":
		if len(c.files) == 0 {
			return usagef("import: name at least one report file (or - for stdin)")
		}
		if c.importKind != string(store.Production) && c.importKind != string(store.CI) {
			return usagef("--import-kind must be production or ci, got %q", c.importKind)
		}
	case "export":
		var err error
		if c.from, err = parseDay(c.since, false); err != nil {
			return usagef("--since: %v", err)
		}
		if c.to, err = parseDay(c.until, true); err != nil {
			return usagef("--until: %v", err)
		}
		if c.to.IsZero() {
			c.to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		if !c.from.Before(c.to) {
			return usagef("--since must be before --until")
		}
	}
	return nil
}

func (c *config) validateServe() error {
	if len(c.props) == 0 {
		return usagef("no property configured: accept reports with --property G-XXXX:SECRET[:production|ci] (or %s)", envName("property"))
	}
	seen := map[string]bool{}
	for _, p := range c.props {
		if seen[p.ID] {
			return usagef("--property %s is given twice", p.ID)
		}
		seen[p.ID] = true
	}
	for _, a := range []struct{ flag, v string }{{"listen", c.listen}, {"dashboard-listen", c.dashboardListen}} {
		if a.v == "" && a.flag == "dashboard-listen" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			return usagef("--%s must be host:port, such as 127.0.0.1:8080, got %q", a.flag, a.v)
		}
	}
	for _, p := range c.trustedProxies {
		pfx, err := receiver.ParseCIDR(p)
		if err != nil {
			return usagef("--trusted-proxy: %v", err)
		}
		c.proxies = append(c.proxies, pfx)
	}
	if c.maxClusters < 1 {
		return usagef("--max-clusters-per-address must be at least 1, got %d", c.maxClusters)
	}
	if c.clientBurst < 1 || c.addressBurst < 1 {
		return usagef("--client-burst and --address-burst must be at least 1")
	}
	if c.minClusters < disclosure.MinK {
		return usagef("--min-clusters must be at least %d (\"fewer than 2 clusters\" would say 1), got %d", disclosure.MinK, c.minClusters)
	}
	return nil
}

// parseDay reads a date (its start, or with end its end) or an RFC 3339
// time; "" is the zero time.
func parseDay(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (2006-01-02) nor an RFC 3339 time (2006-01-02T15:04:05Z)", s)
	}
	return t, nil
}
