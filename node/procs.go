package node

import (
	"os"
	"runtime"
)

// LimitProcs has the Go runtime run Go code on one core at a time
// (GOMAXPROCS=1), unless the GOMAXPROCS environment variable sets a
// number, and returns the number in force.
//
// mim-metrics runs beside production nodes, often on their machines, and
// its work is a few RPCs every few hours: it should take at most one core
// from them. One core also makes each call cheaper: with two, every hand
// over between ergo's goroutines (sender, flusher, reader, the process,
// the caller) woke another thread, and idle threads spun looking for work
// on cores the nodes were using (figures in docs/performance.md).
func LimitProcs() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	runtime.GOMAXPROCS(1)
	return 1
}
