# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
# Draws the PNGs of benchmarks/README.md from the CSVs that sweep.py writes.
# Run from benchmarks/results/: gnuplot ../plot.gp
set datafile separator ","
set terminal pngcairo size 900,560 font "sans,11"
set key top left
set grid

# Memory versus wait.
set output "tradeoff.png"
set title "Memory versus wait: fast producer, 20 us task-complete callback, N=20000, W=50"
set logscale x
set xlabel "queue capacity Q (both queues)"
set ylabel "producer wait (ms)"
set y2label "peak RSS (MiB)"
set ytics nomirror
set y2tics
plot "tradeoff.csv" using (column("q")):(column("producer_wait_ms")) with linespoints lw 2 title "producer wait (ms)", \
     "tradeoff.csv" using (column("q")):(column("peak_rss_kib")/1024.0) axes x1y2 with linespoints lw 2 title "peak RSS (MiB)"
unset y2tics
unset y2label
set ytics mirror

# Concurrency.
set output "concurrency.png"
set title "Sleep workload: N=2000 tasks of 10 ms, makespan against workers"
set logscale xy
set xlabel "workers W"
set ylabel "makespan (s)"
plot "concurrency.csv" using (column("workers")):(column("seconds")) with linespoints lw 2 title "jobrunner", \
     "concurrency.csv" using (column("workers")):(column("ideal_s")) with lines dt 2 lw 2 title "ideal ceil(N/W) x 10 ms"

set output "efficiency.png"
set title "Sleep workload: efficiency (ideal / makespan) against workers"
unset logscale y
set yrange [0:1.05]
set ylabel "efficiency"
plot "concurrency.csv" using (column("workers")):(column("efficiency")) with linespoints lw 2 title "jobrunner"
set autoscale y

# Scale.
set output "scale.png"
set title "Memory workload: peak RSS against the number of items (W=50, Q=100)"
set logscale x
unset logscale y
set yrange [0:*]
set xlabel "items N"
set ylabel "peak RSS (MiB)"
plot "scale.csv" using (column("n")):(column("jobrunner_rss_kib")/1024.0) with linespoints lw 2 title "jobrunner", \
     "scale.csv" using (column("n")):(column("handwritten_fast_rss_kib")/1024.0) with linespoints lw 2 title "hand-written fast path"

# Threads.
set output "threads.png"
set title "CPU workload (about 5 us a task): throughput on 1 and 2 threads"
unset logscale x
set xrange [0.5:2.5]
set xtics 1
set boxwidth 0.2
set xlabel "io_context threads" noenhanced
set ylabel "items per second"
plot "threads.csv" using (column("threads")-0.1):(column("jobrunner_items_per_s")) with boxes fs solid 0.6 title "jobrunner", \
     "threads.csv" using (column("threads")+0.1):(column("handwritten_fast_items_per_s")) with boxes fs solid 0.3 title "hand-written fast path"
