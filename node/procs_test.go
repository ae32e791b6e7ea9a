package node

import (
	"runtime"
	"testing"
)

func TestLimitProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))

	runtime.GOMAXPROCS(2)
	t.Setenv("GOMAXPROCS", "")
	if got := LimitProcs(); got != 1 || runtime.GOMAXPROCS(0) != 1 {
		t.Errorf("without GOMAXPROCS: LimitProcs() = %d, GOMAXPROCS %d; want 1, 1", got, runtime.GOMAXPROCS(0))
	}

	// An operator's GOMAXPROCS is the runtime's own, read at start; it is
	// left as it is.
	runtime.GOMAXPROCS(2)
	t.Setenv("GOMAXPROCS", "2")
	if got := LimitProcs(); got != 2 || runtime.GOMAXPROCS(0) != 2 {
		t.Errorf("with GOMAXPROCS=2: LimitProcs() = %d, GOMAXPROCS %d; want 2, 2", got, runtime.GOMAXPROCS(0))
	}
}
