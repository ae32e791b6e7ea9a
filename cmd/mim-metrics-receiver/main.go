// Command mim-metrics-receiver keeps MongooseIM's system metrics reports
// without Google: it accepts what the sidecar and MongooseIM send (GA4 and
// Universal Analytics Measurement Protocols, report files), stores them in
// SQLite or PostgreSQL, rolls them up per day and serves the dashboard.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mim-metrics/mim-metrics/internal/program"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func versionString() string { return program.Version(version) }

func main() {
	program.Run(func(ctx context.Context) int {
		return Main(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	})
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const progName = "mim-metrics-receiver"

// Main runs the program and returns its exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		return exitUsage
	}
	if c.version || c.command == "version" {
		fmt.Fprintf(stdout, "%s %s\n", progName, versionString())
		return exitOK
	}
	log := program.NewLogger(c.logFormat, c.logLevel, stderr)
	if c.command == "serve" {
		log = program.NewLogger(c.logFormat, c.logLevel, stdout)
	}
	defer func() { _ = log.Sync() }()
	switch c.command {
	case "import":
		err = runImport(ctx, c, stdin, stdout)
	case "export":
		err = runExport(ctx, c, stdout)
	default:
		err = runServe(ctx, c, log)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", progName, err)
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}
