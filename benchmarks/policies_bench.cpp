// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
//
// The policies that need a benchmark rather than a test (issue 4):
//
//   policies_bench rate [R=500] [B=10] [N=3000]
//     The rate limit's accuracy: N instant tasks from 50 workers under a
//     limit of R starts a second with burst B. Prints the most starts seen
//     in any 1-second window (the bound is R + B), the achieved rate over
//     the run, and the worst lateness of a start against its GCRA slot.
//
//   policies_bench aimd [N=3000] [C=10]
//     Adaptive concurrency against a simulated overloaded server: it serves
//     C requests at once in 5 ms; with k > C in flight each takes
//     5 ms * (k / C)^2 (it shares its capacity and thrashes). Tasks time out
//     after 50 ms. Runs 200 fixed workers, C fixed workers (the oracle that
//     knows the capacity) and 200 workers with adaptive concurrency; prints
//     successes, timeouts, makespan and goodput for each.
//
// One JSON line per run.
#include <jobrunner/jobrunner.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

long arg(int argc, char** argv, int i, long fallback)
{
  return argc > i ? std::strtol(argv[i], nullptr, 10) : fallback;
}

int rate(int argc, char** argv)
{
  const double r = static_cast<double>(arg(argc, argv, 2, 500));
  const auto burst = static_cast<std::size_t>(arg(argc, argv, 3, 10));
  const long n = arg(argc, argv, 4, 3000);
  asio::io_context io;
  jobrunner::JobConfig config;
  config.rate_limit.per_second = r;
  config.rate_limit.burst = burst;
  std::vector<clock_type::time_point> starts;
  starts.reserve(static_cast<std::size_t>(n));
  jobrunner::JobRunner<long, long> runner(
      io,
      [&](long x) -> asio::awaitable<long> {
        starts.push_back(clock_type::now());
        co_return x;
      },
      config);
  std::vector<long> items(static_cast<std::size_t>(n));
  runner.add_range(items);
  auto summary = runner.run();

  std::sort(starts.begin(), starts.end());
  // Most starts in any window [t, t + 1 s): a two-pointer sweep.
  std::size_t most = 0;
  for (std::size_t i = 0, j = 0; i < starts.size(); ++i)
  {
    while (j < starts.size() && starts[j] - starts[i] < 1s)
      ++j;
    most = std::max(most, j - i);
  }
  // Lateness: start k's GCRA slot is first + (k - (B - 1)) / R at the
  // earliest; how much later than its slot did each start happen?
  const auto first = starts.front();
  double worst_late_ms = 0, sum_late_ms = 0;
  for (std::size_t k = burst; k < starts.size(); ++k)
  {
    const double slot_s = static_cast<double>(k + 1 - burst) / r;
    const double at_s = std::chrono::duration<double>(starts[k] - first).count();
    const double late_ms = (at_s - slot_s) * 1e3;
    worst_late_ms = std::max(worst_late_ms, late_ms);
    sum_late_ms += late_ms;
  }
  const double span_s = std::chrono::duration<double>(starts.back() - first).count();
  const double achieved = static_cast<double>(starts.size() - burst) / span_s;
  std::printf("{\"bench\": \"rate\", \"R\": %.0f, \"B\": %zu, \"N\": %ld, \"max_starts_in_1s\": "
              "%zu, \"bound\": %.0f, \"achieved_per_s\": %.2f, \"rate_error_pct\": %.3f, "
              "\"mean_late_ms\": %.3f, \"worst_late_ms\": %.3f, \"ok\": %s}\n",
              r, burst, n, most, r + static_cast<double>(burst), achieved,
              (achieved - r) / r * 100.0, sum_late_ms / static_cast<double>(starts.size() - burst),
              worst_late_ms,
              summary.succeeded == static_cast<std::uint64_t>(n)
                      && static_cast<double>(most) <= r + static_cast<double>(burst)
                  ? "true"
                  : "false");
  return 0;
}

struct aimd_run
{
  const char* name;
  std::size_t workers;
  bool adaptive;
};

int aimd(int argc, char** argv)
{
  const long n = arg(argc, argv, 2, 3000);
  const int capacity = static_cast<int>(arg(argc, argv, 3, 10));
  const aimd_run runs[] = {{"fixed_200", 200, false},
                           {"fixed_oracle", static_cast<std::size_t>(capacity), false},
                           {"adaptive_200", 200, true}};
  for (const auto& run : runs)
  {
    asio::io_context io;
    jobrunner::JobConfig config;
    config.workers = run.workers;
    config.task_timeout = 50ms;
    config.adaptive_concurrency.enabled = run.adaptive;
    int in_flight = 0;
    jobrunner::JobRunner<long, long> runner(
        io,
        [&](long x) -> asio::awaitable<long> {
          ++in_flight;
          struct leave
          {
            int& k;
            ~leave() { --k; }
          } guard{in_flight};
          const double load = std::max(1.0, static_cast<double>(in_flight) / capacity);
          asio::steady_timer t(co_await asio::this_coro::executor,
                               std::chrono::microseconds(static_cast<long>(5000 * load * load)));
          co_await t.async_wait(asio::use_awaitable);
          co_return x;
        },
        config);
    std::vector<long> items(static_cast<std::size_t>(n));
    runner.add_range(items);
    auto s = runner.run();
    const double secs = std::chrono::duration<double>(s.elapsed).count();
    std::printf("{\"bench\": \"aimd\", \"run\": \"%s\", \"W\": %zu, \"C\": %d, \"N\": %ld, "
                "\"succeeded\": %llu, \"timed_out\": %llu, \"makespan_s\": %.3f, "
                "\"goodput_per_s\": %.1f, \"ideal_per_s\": %.1f, \"lowest_limit\": %zu, "
                "\"p50_ms\": %.2f, \"ok\": %s}\n",
                run.name, run.workers, capacity, n, static_cast<unsigned long long>(s.succeeded),
                static_cast<unsigned long long>(s.timed_out), secs,
                static_cast<double>(s.succeeded) / secs, capacity / 0.005,
                s.lowest_concurrency_limit, static_cast<double>(s.latency.p50.count()) / 1e6,
                s.submitted == static_cast<std::uint64_t>(n) ? "true" : "false");
    std::fflush(stdout);
  }
  return 0;
}

} // namespace

int main(int argc, char** argv)
{
  if (argc > 1 && std::strcmp(argv[1], "rate") == 0)
    return rate(argc, argv);
  if (argc > 1 && std::strcmp(argv[1], "aimd") == 0)
    return aimd(argc, argv);
  std::fprintf(stderr, "usage: policies_bench rate [R] [B] [N] | aimd [N] [C]\n");
  return 2;
}
