// Package program is what both commands (mim-metrics and
// mim-metrics-receiver) do alike as programs: their version, their logger,
// and a main that stops at SIGINT or SIGTERM.
package program

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Version is the program's version: set, when the build set one with
// -ldflags "-X main.version=..."; else the module's version; else "dev".
func Version(set string) string {
	if set != "" {
		return set
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Run runs main with a context that ends at SIGINT or SIGTERM, and exits
// with the code main returns.
func Run(main func(ctx context.Context) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := main(ctx)
	stop()
	os.Exit(code)
}

// NewLogger logs to w at level ("debug", "info"...; info when it is not
// one) as human-readable lines, or as JSON when format is "json".
func NewLogger(format, level string, w io.Writer) *zap.Logger {
	var lvl zapcore.Level
	_ = lvl.Set(level)
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "time"
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	if format == "json" {
		enc = zapcore.NewJSONEncoder(encCfg)
	} else {
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), lvl))
}
