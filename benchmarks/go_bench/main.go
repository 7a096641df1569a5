// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0

// The peer a Go user would write instead of the runner: a pool of W goroutines
// on buffered channels, under the benchmark contract of benchmarks/README.md:
//
//	go_bench WORKLOAD [N] [W] [Q] [P] [L]
//
// P producers send items into a channel of capacity Q; W workers run the task
// and send results into a second channel of capacity Q; one result handler
// sums them. Input ends by closing the work channel once every producer is
// done (Go's close keeps buffered items), and the results channel once every
// worker is done. GOMAXPROCS chooses the threads (the harness runs it with 1
// and with the default).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

type options struct {
	workload                          string
	n, workers, queue, producers, lat int64
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go_bench WORKLOAD [N] [W] [Q] [P] [L]")
	os.Exit(2)
}

func parse() options {
	defaults := map[string]int64{"overhead": 1000000, "multi": 1000000, "cpu": 1000000,
		"sleep": 10000, "memory": 10000000}
	if len(os.Args) < 2 {
		usage()
	}
	n, known := defaults[os.Args[1]]
	if !known {
		usage()
	}
	o := options{workload: os.Args[1], n: n, workers: 50, queue: 100, producers: 1}
	if o.workload == "multi" {
		o.producers = 8
	}
	if o.workload == "sleep" {
		o.lat = 10
	}
	fields := []*int64{&o.n, &o.workers, &o.queue, &o.producers, &o.lat}
	for i, arg := range os.Args[2:] {
		if i >= len(fields) || arg == "-" {
			continue
		}
		v, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			usage()
		}
		*fields[i] = v
	}
	if o.n < 0 || o.workers < 1 || o.queue < 0 || o.producers < 1 || o.lat < 0 {
		usage()
	}
	return o
}

// About 5 us of arithmetic, the same loop as bench::cpu_work.
func cpuWork(x int64) int64 {
	h := uint64(x) + 0x9e3779b97f4a7c15
	for i := 0; i < 4500; i++ {
		h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9
	}
	if h == 1 { // never true in practice; keeps the loop's result used
		return -1
	}
	return x * 2
}

func peakRSSKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmHWM:") {
			v, _ := strconv.ParseInt(strings.Fields(s.Text())[1], 10, 64)
			return v
		}
	}
	return -1
}

func main() {
	o := parse()
	latency := time.Duration(o.lat) * time.Millisecond
	cpu := o.workload == "cpu"
	task := func(x int64) int64 {
		if latency > 0 {
			time.Sleep(latency)
			return x * 2
		}
		if cpu {
			return cpuWork(x)
		}
		return x * 2
	}

	start := time.Now()
	work := make(chan int64, o.queue)
	results := make(chan int64, o.queue)
	var producers, workers sync.WaitGroup
	for p := int64(0); p < o.producers; p++ {
		producers.Add(1)
		go func(p int64) {
			defer producers.Done()
			per := o.n / o.producers
			first, last := p*per, p*per+per
			if p == o.producers-1 {
				last = o.n
			}
			for i := first; i < last; i++ {
				work <- i
			}
		}(p)
	}
	for w := int64(0); w < o.workers; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for x := range work {
				results <- task(x)
			}
		}()
	}
	go func() { producers.Wait(); close(work) }()
	go func() { workers.Wait(); close(results) }()
	var sum, count int64
	for r := range results {
		sum += r
		count++
	}
	seconds := time.Since(start).Seconds()

	expected := o.n * (o.n - 1)
	line := map[string]interface{}{
		"impl": "go", "workload": o.workload, "n": o.n, "seconds": seconds,
		"items_per_s": float64(o.n) / seconds, "sum": sum, "results": count,
		"expected_sum": expected, "ok": count == o.n && sum == expected,
		"ns_per_item": seconds * 1e9 / math.Max(float64(o.n), 1), "workers": o.workers,
		"queue": o.queue, "producers": o.producers, "latency_ms": o.lat,
		"threads": runtime.GOMAXPROCS(0), "peak_rss_kib": peakRSSKiB(),
	}
	if o.workload == "sleep" {
		ideal := math.Ceil(float64(o.n)/float64(o.workers)) * float64(o.lat) / 1000
		line["ideal_s"] = ideal
		line["efficiency"] = ideal / seconds
	}
	out, _ := json.Marshal(line)
	fmt.Println(string(out))
}
