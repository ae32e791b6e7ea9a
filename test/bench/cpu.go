package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// cpuPhase is how long the CPU phase of a row runs its back-to-back
// collections, about.
const cpuPhase = 2 * time.Second

// cpuResult is the CPU a collection costs, measured over back-to-back
// collections (no baseline in between): CPU time moves far less than wall
// time when the machine's host is busy.
type cpuResult struct {
	runs      int
	node      time.Duration // mean per collection, of the busiest node
	collector time.Duration // mean per collection, this process
	wall      time.Duration // mean per collection
}

// measureCPU collects the cluster back to back for about cpuPhase (at
// least 5 times, at most 300), reading the nodes' CPU time from
// /proc/<pid>/stat and ours from getrusage.
func measureCPU(ctx context.Context, ctl *node.Cluster, col *metrics.Collector, nodes []*erltest.Node, median time.Duration) (cpuResult, error) {
	var res cpuResult
	pids := make([]string, len(nodes))
	for i, n := range nodes {
		t, err := ctl.Eval(ctx, n.Name, "os:getpid().", nil)
		if err != nil {
			return res, err
		}
		pid, ok := etf.Text(t)
		if !ok {
			return res, fmt.Errorf("os:getpid() on %s answered %s", n.Name, etf.FormatLimit(t, 60))
		}
		pids[i] = pid
	}
	res.runs = 300
	if median > 0 {
		res.runs = min(300, max(5, int(cpuPhase/median)))
	}
	before := make([]time.Duration, len(pids))
	for i, p := range pids {
		d, err := procCPU(p)
		if err != nil {
			return res, err
		}
		before[i] = d
	}
	self0 := selfCPU()
	start := time.Now()
	for i := 0; i < res.runs; i++ {
		if _, err := col.Collect(ctx); err != nil {
			return res, err
		}
	}
	res.wall = time.Since(start) / time.Duration(res.runs)
	res.collector = (selfCPU() - self0) / time.Duration(res.runs)
	for i, p := range pids {
		d, err := procCPU(p)
		if err != nil {
			return res, err
		}
		res.node = max(res.node, (d-before[i])/time.Duration(res.runs))
	}
	return res, nil
}

// procCPU is the user and system CPU time of process pid (Linux).
func procCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: bad times %q %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// selfCPU is this process's user and system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
