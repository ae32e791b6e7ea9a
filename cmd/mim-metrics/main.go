// Command mim-metrics reports a MongooseIM cluster's system metrics from a
// hidden Erlang node beside the cluster, like MongooseIM's own
// service_mongoose_system_metrics: to Google Analytics and to a local
// system_metrics_report.json, with MongooseIM's consent rules.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mim-metrics/mim-metrics/internal/program"
	"github.com/mim-metrics/mim-metrics/node"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func versionString() string { return program.Version(version) }

func main() {
	node.LimitProcs()
	program.Run(func(ctx context.Context) int { return Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr) })
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Main runs the program and returns its exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "mim-metrics: %v\n", err)
		return exitUsage
	}
	if c.version || c.command == "version" {
		fmt.Fprintf(stdout, "mim-metrics %s\n", versionString())
		return exitOK
	}
	// preview's stdout is its JSON and requests: its log goes to stderr.
	logTo := stdout
	if c.command == "preview" {
		logTo = stderr
	}
	log := program.NewLogger(c.logFormat, c.logLevel, logTo)
	defer func() { _ = log.Sync() }()
	for _, w := range c.dist.warnings {
		log.Warn(w)
	}
	var code int
	switch c.command {
	case "check":
		code, err = runCheck(ctx, c, stdout)
	case "preview":
		code, err = runPreview(ctx, c, getenv, log, stdout)
	case "once":
		code, err = runReporting(ctx, c, getenv, log, true)
	default:
		code, err = runReporting(ctx, c, getenv, log, false)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mim-metrics: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		if code == exitOK {
			code = exitFailure
		}
	}
	return code
}
