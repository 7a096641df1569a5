// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The command line and the JSON line shared by every implementation that the
// benchmark harness runs (see benchmarks/README.md for the contract).
#ifndef JOBRUNNER_BENCHMARKS_BENCH_COMMON_HPP
#define JOBRUNNER_BENCHMARKS_BENCH_COMMON_HPP

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

namespace bench {

struct options
{
  std::string workload;
  long n = 0;
  long workers = 50;
  long queue = 100;
  long producers = 1;
  long latency_ms = 0;
  unsigned threads = 1; // JOBRUNNER_BENCH_THREADS
};

inline void usage(const char* argv0)
{
  std::fprintf(
      stderr,
      "usage: %s WORKLOAD [N] [W] [Q] [P] [L]\n"
      "  WORKLOAD  overhead | sleep | memory | multi | cpu\n"
      "  N items (overhead, multi, cpu 1000000; sleep 10000; memory 10000000)\n"
      "  W workers (50), Q capacity of both queues (100), P producers (1; multi 8)\n"
      "  L task latency in ms (sleep 10; others 0)\n"
      "  '-' keeps a default; JOBRUNNER_BENCH_THREADS=T runs the io_context on T threads\n",
      argv0);
}

inline options parse(int argc, char** argv)
{
  if (argc < 2)
  {
    usage(argv[0]);
    std::exit(2);
  }
  options o;
  o.workload = argv[1];
  if (o.workload == "overhead" || o.workload == "multi" || o.workload == "cpu")
    o.n = 1000000;
  else if (o.workload == "sleep")
  {
    o.n = 10000;
    o.latency_ms = 10;
  }
  else if (o.workload == "memory")
    o.n = 10000000;
  else
  {
    usage(argv[0]);
    std::exit(2);
  }
  if (o.workload == "multi")
    o.producers = 8;
  long* fields[] = {&o.n, &o.workers, &o.queue, &o.producers, &o.latency_ms};
  for (int i = 2; i < argc && i - 2 < 5; ++i)
    if (std::strcmp(argv[i], "-") != 0)
      *fields[i - 2] = std::atol(argv[i]);
  if (o.n < 0 || o.workers < 1 || o.queue < 0 || o.producers < 1 || o.latency_ms < 0)
  {
    usage(argv[0]);
    std::exit(2);
  }
  if (const char* t = std::getenv("JOBRUNNER_BENCH_THREADS"))
    o.threads = static_cast<unsigned>(std::max(1L, std::atol(t)));
  return o;
}

// Producer p's slice of 0..n-1: [p*floor(n/P), (p+1)*floor(n/P)), the last up to n.
inline void slice(const options& o, long p, long& first, long& last)
{
  long per = o.n / o.producers;
  first = p * per;
  last = p == o.producers - 1 ? o.n : first + per;
}

// first..last-1 computed on the fly (std::views::iota does not compile with
// clang 14 and libstdc++ 12).
struct counting
{
  long first, last;
  struct iterator
  {
    long v;
    long operator*() const { return v; }
    iterator& operator++()
    {
      ++v;
      return *this;
    }
    bool operator==(const iterator&) const = default;
  };
  iterator begin() const { return {first}; }
  iterator end() const { return {last}; }
};

// About 5 us of CPU work that the compiler cannot remove (the cpu workload).
inline long cpu_work(long x)
{
  unsigned long h = static_cast<unsigned long>(x) + 0x9e3779b97f4a7c15UL;
  for (int i = 0; i < 4500; ++i)
  {
    h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9UL;
    asm volatile("" : "+r"(h)); // keeps the loop: its result is otherwise unused
  }
  return x * 2;
}

inline long peak_rss_kib()
{
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return -1;
}

// Time to first task start: mark_job_start() where the job is set up (before
// the runner or the channels are created), task_started() as each task
// begins (one relaxed load once the first start is known).
inline std::chrono::steady_clock::time_point job_start;
inline std::atomic<long long> first_task_ns{-1};

inline void mark_job_start()
{
  job_start = std::chrono::steady_clock::now();
}

inline void task_started()
{
  if (first_task_ns.load(std::memory_order_relaxed) >= 0)
    return;
  long long expected = -1;
  first_task_ns.compare_exchange_strong(expected,
                                        std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::steady_clock::now() - job_start)
                                            .count());
}

inline void report(const char* impl, const options& o, double seconds, long sum, long results)
{
  const long expected = o.n * (o.n - 1);
  const bool ok = results == o.n && sum == expected;
  std::printf("{\"impl\": \"%s\", \"workload\": \"%s\", \"n\": %ld, \"seconds\": %.6f, "
              "\"items_per_s\": %.1f, \"sum\": %ld, \"results\": %ld, \"expected_sum\": %ld, "
              "\"ok\": %s, \"ns_per_item\": %.2f, \"workers\": %ld, \"queue\": %ld, "
              "\"producers\": %ld, \"latency_ms\": %ld, \"threads\": %u, \"peak_rss_kib\": %ld",
              impl, o.workload.c_str(), o.n, seconds,
              seconds > 0 ? static_cast<double>(o.n) / seconds : 0.0, sum, results, expected,
              ok ? "true" : "false", o.n > 0 ? seconds * 1e9 / static_cast<double>(o.n) : 0.0,
              o.workers, o.queue, o.producers, o.latency_ms, o.threads, peak_rss_kib());
  std::printf(", \"first_task_us\": %.1f", static_cast<double>(first_task_ns.load()) / 1e3);
  if (o.workload == "sleep")
  {
    double ideal = std::ceil(static_cast<double>(o.n) / static_cast<double>(o.workers))
                   * static_cast<double>(o.latency_ms) / 1000.0;
    std::printf(", \"ideal_s\": %.6f, \"efficiency\": %.4f", ideal,
                seconds > 0 ? ideal / seconds : 0.0);
  }
  std::printf("}\n");
}

} // namespace bench

#endif
