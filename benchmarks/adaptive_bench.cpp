// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
//
// The adaptive concurrency limits against simulated services (issue 14
// item 6), in the manner of Vector's adaptive-concurrency test harness:
//
//   adaptive_bench [SECONDS=20] [CASE=all] [LIMIT=all]
//
// Three services, simulated in-process with timers (one thread):
//   cap      5 requests served at once, 100 ms each (ideal 50 req/s); more
//            wait in a FIFO queue at the server.
//   rate     at most 100 requests start a second, each takes 100 ms (ideal
//            100 req/s); more wait for their turn at the server.
//   latency  100 ms while at most 8 are in flight; each request beyond
//            doubles it (100 ms x 2^(n-8) for the n-th in flight; ideal
//            8 in flight, 80 req/s).
// A request abandoned by the client (its timeout) still holds its place at
// the cap and rate servers (they do not know the client left); at the
// latency service it stops counting as in flight.
//
// The job: 50 workers, a task timeout of 500 ms (5 x the service time), no
// retries, and SECONDS x ideal items (so a perfect run takes SECONDS).
// LIMIT: none (50 workers), aimd or gradient (adaptive_concurrency with
// initial_workers 1, the other parameters at their defaults).
// Prints a JSON line per run, then a table: throughput as a share of the
// ideal (successes / elapsed time / ideal rate) and the share of requests
// that failed (timed out).
#include <jobrunner/jobrunner.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto service_time = 100ms;

enum class service
{
  cap,
  rate,
  latency
};

const char* name(service s)
{
  switch (s)
  {
  case service::cap:
    return "cap";
  case service::rate:
    return "rate";
  case service::latency:
    return "latency";
  }
  return "?";
}

double ideal_rate(service s)
{
  switch (s)
  {
  case service::cap:
    return 50;
  case service::rate:
    return 100;
  case service::latency:
    return 80;
  }
  return 1;
}

// The simulated service: when a request arriving now ends.
struct simulated_service
{
  service kind;
  std::array<clock_type::time_point, 5> slot_free{}; // cap: when each slot is free
  clock_type::time_point next_start{};               // rate: the next start allowed
  int in_flight = 0;                                 // latency: requests in flight

  clock_type::time_point admit(clock_type::time_point now)
  {
    switch (kind)
    {
    case service::cap:
    {
      auto slot = std::min_element(slot_free.begin(), slot_free.end());
      const auto start = std::max(now, *slot);
      *slot = start + service_time;
      return *slot;
    }
    case service::rate:
    {
      const auto start = std::max(now, next_start);
      next_start = start + 10ms;
      return start + service_time;
    }
    case service::latency:
    {
      const int beyond = std::min(in_flight - 8, 20); // in_flight counts this one
      return now + (beyond > 0 ? service_time * (1 << beyond) : service_time);
    }
    }
    return now;
  }
};

struct run_result
{
  long items = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0; // timed out or failed
  double seconds = 0;
  std::size_t lowest_limit = 0;
  std::size_t final_limit = 0;
};

run_result run(service kind, const std::string& limit, double seconds)
{
  asio::io_context io;
  jobrunner::JobConfig config;
  config.workers = 50;
  config.task_timeout = 500ms;
  if (limit != "none")
  {
    config.adaptive_concurrency.enabled = true;
    config.adaptive_concurrency.initial_workers = 1;
    config.adaptive_concurrency.algorithm =
        limit == "gradient" ? jobrunner::JobConfig::AdaptiveConcurrency::algorithm_kind::gradient
                            : jobrunner::JobConfig::AdaptiveConcurrency::algorithm_kind::aimd;
  }
  simulated_service server{kind};
  jobrunner::JobRunner<long, long> runner(
      io,
      [&](long x) -> asio::awaitable<long> {
        ++server.in_flight;
        struct leave
        {
          int& n;
          ~leave() { --n; }
        } guard{server.in_flight};
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_at(server.admit(clock_type::now()));
        co_await timer.async_wait(asio::use_awaitable);
        co_return x;
      },
      config);
  run_result r;
  r.items = std::max(1L, static_cast<long>(seconds * ideal_rate(kind)));
  std::vector<long> items(static_cast<std::size_t>(r.items));
  runner.add_range(items);
  const auto t0 = clock_type::now();
  const auto summary = runner.run();
  r.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  r.succeeded = summary.succeeded;
  r.failed = summary.failed + summary.timed_out;
  r.lowest_limit = summary.lowest_concurrency_limit;
  r.final_limit = runner.stats().concurrency_limit;
  return r;
}

} // namespace

int main(int argc, char** argv)
{
  const double seconds = argc > 1 ? std::strtod(argv[1], nullptr) : 20;
  const std::string only_case = argc > 2 ? argv[2] : "all";
  const std::string only_limit = argc > 3 ? argv[3] : "all";
  if (!(seconds > 0 && seconds <= 3600))
  {
    std::fprintf(stderr, "usage: %s [SECONDS=20] [cap|rate|latency|all] [none|aimd|gradient|all]\n",
                 argv[0]);
    return 2;
  }
  struct row
  {
    service kind;
    std::string limit;
    run_result r;
  };
  std::vector<row> rows;
  bool ok = true;
  for (const auto kind : {service::cap, service::rate, service::latency})
    for (const std::string limit : {"none", "aimd", "gradient"})
    {
      if ((only_case != "all" && only_case != name(kind))
          || (only_limit != "all" && only_limit != limit))
        continue;
      const auto r = run(kind, limit, seconds);
      // Every item reported once, as a success or a failure.
      const bool consistent = r.succeeded + r.failed == static_cast<std::uint64_t>(r.items);
      ok = ok && consistent;
      std::printf("{\"service\": \"%s\", \"limit\": \"%s\", \"items\": %ld, \"succeeded\": %llu, "
                  "\"failed\": %llu, \"seconds\": %.3f, \"lowest_limit\": %zu, "
                  "\"final_limit\": %zu, \"ok\": %s}\n",
                  name(kind), limit.c_str(), r.items, static_cast<unsigned long long>(r.succeeded),
                  static_cast<unsigned long long>(r.failed), r.seconds, r.lowest_limit,
                  r.final_limit, consistent ? "true" : "false");
      std::fflush(stdout);
      rows.push_back({kind, limit, r});
    }
  if (rows.empty())
  {
    std::fprintf(stderr, "no such case or limit\n");
    return 2;
  }
  std::printf("\n| service | ideal req/s | limit | req/s | share of ideal | failed |\n"
              "|---|---:|---|---:|---:|---:|\n");
  for (const auto& x : rows)
  {
    const double rate = static_cast<double>(x.r.succeeded) / x.r.seconds;
    std::printf("| %s | %.0f | %s | %.1f | %.0f%% | %.1f%% |\n", name(x.kind), ideal_rate(x.kind),
                x.limit.c_str(), rate, 100 * rate / ideal_rate(x.kind),
                100 * static_cast<double>(x.r.failed) / static_cast<double>(x.r.items));
  }
  return ok ? 0 : 1;
}
