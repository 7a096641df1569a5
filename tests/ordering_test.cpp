// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// JobConfig::ordered_delivery (the reorder window) and
// JobConfig::adaptive_concurrency (the AIMD limit on active workers).
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::JobRunner;
using jobrunner::task_status;
using jobrunner::test::outcome;
using jobrunner::test::run_to_completion;
using jobrunner::test::sleep_for;
using jobrunner::test::start;

TEST_CASE("ordered delivery calls task-complete in submission order", "[ordered]")
{
  for (std::size_t window : {0u, 1u, 3u, 64u})
  {
    CAPTURE(window);
    asio::io_context io;
    JobConfig config;
    config.workers = 8;
    config.ordered_delivery = true;
    config.reorder_window = window;
    std::mt19937 rng(42);
    std::vector<int> latency_us(300);
    for (auto& l : latency_us)
      l = std::uniform_int_distribution<int>(0, 2000)(rng);
    JobRunner<int, int> runner(
        io,
        [&](int x) -> asio::awaitable<int> {
          co_await sleep_for(std::chrono::microseconds(latency_us[static_cast<std::size_t>(x)]));
          co_return x;
        },
        config);
    std::vector<int> delivered;
    runner.add_range(jobrunner::test::iota(0, 300)).on_task_complete([&](auto& r) {
      CHECK(r.sequence == delivered.size());
      delivered.push_back(r.item);
    });
    outcome out;
    start(runner, out);
    REQUIRE(run_to_completion(io));
    REQUIRE(delivered.size() == 300);
    CHECK(std::is_sorted(delivered.begin(), delivered.end()));
    CHECK(out.summary.succeeded == 300);
  }
}

TEST_CASE("the reorder window bounds how far workers run ahead of a slow item", "[ordered]")
{
  // Item 0 takes 100 ms, the others 1 ms. With a window of 4, only items
  // 0..3 may start before item 0 is delivered, whatever the 8 workers.
  asio::io_context io;
  JobConfig config;
  config.workers = 8;
  config.ordered_delivery = true;
  config.reorder_window = 4;
  int started_during_slow = 0;
  bool slow_running = false;
  int max_started_ahead = 0;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        if (x == 0)
        {
          slow_running = true;
          co_await sleep_for(100ms);
          slow_running = false;
          co_return x;
        }
        if (slow_running)
          max_started_ahead = std::max(max_started_ahead, ++started_during_slow);
        co_await sleep_for(1ms);
        co_return x;
      },
      config);
  std::vector<int> delivered;
  runner.add_range(jobrunner::test::iota(0, 50)).on_task_complete([&](auto& r) {
    delivered.push_back(r.item);
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(max_started_ahead == 3); // items 1, 2, 3
  CHECK(std::is_sorted(delivered.begin(), delivered.end()));
  CHECK(delivered.size() == 50);
}

TEST_CASE("ordered delivery survives failures, timeouts and a cancel", "[ordered][cancel]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 6;
  config.ordered_delivery = true;
  config.reorder_window = 5;
  config.task_timeout = 20ms;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await sleep_for(std::chrono::microseconds(x % 7 == 0 ? 50000 : 200 * (x % 5)));
        if (x % 3 == 0)
          throw std::runtime_error("x % 3");
        co_return x;
      },
      config);
  std::vector<std::uint64_t> sequences;
  runner.add_range(jobrunner::test::iota(0, 2000)).on_task_complete([&](auto& r) {
    sequences.push_back(r.sequence);
  });
  asio::steady_timer timer(io, 150ms);
  timer.async_wait([&](auto) { runner.cancel(); });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.status == jobrunner::job_status::cancelled);
  REQUIRE(sequences.size() == out.summary.submitted);
  for (std::size_t i = 0; i < sequences.size(); ++i)
    REQUIRE(sequences[i] == i);
  CHECK(out.summary.timed_out > 0);
  CHECK(out.summary.cancelled > 0);
}

TEST_CASE("invalid ordering and adaptive settings are rejected", "[ordered][adaptive][config]")
{
  asio::io_context io;
  auto make = [&](JobConfig c) {
    JobRunner<int, int> r(
        io, [](int x) { return x; }, c);
  };
  JobConfig c;
  c.workers = 10;
  c.adaptive_concurrency.enabled = true;
  c.adaptive_concurrency.min_workers = 0;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c.adaptive_concurrency.min_workers = 11;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c.adaptive_concurrency.min_workers = 2;
  c.adaptive_concurrency.initial_workers = 1;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c.adaptive_concurrency.initial_workers = 0;
  c.adaptive_concurrency.decrease_factor = 1;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c.adaptive_concurrency.decrease_factor = 0.5;
  CHECK_NOTHROW(make(c));
  // The gradient's parameters (checked whatever the algorithm, once enabled).
  auto bad_gradient = [&](auto set) {
    JobConfig g = c;
    g.adaptive_concurrency.algorithm = JobConfig::AdaptiveConcurrency::algorithm_kind::gradient;
    CHECK_NOTHROW(make(g));
    set(g.adaptive_concurrency);
    CHECK_THROWS_AS(make(g), std::invalid_argument);
  };
  bad_gradient([](auto& a) { a.smoothing = 0; });
  bad_gradient([](auto& a) { a.smoothing = 1.5; });
  bad_gradient([](auto& a) { a.tolerance = 0.9; });
  bad_gradient([](auto& a) { a.tolerance = 11; });
  bad_gradient([](auto& a) { a.queue_allowance = -1; });
  bad_gradient([](auto& a) { a.queue_allowance = 11; });
  bad_gradient([](auto& a) { a.short_window = 0; });
  bad_gradient([](auto& a) { a.long_window = a.short_window; });
  bad_gradient([](auto& a) {
    a.algorithm = static_cast<JobConfig::AdaptiveConcurrency::algorithm_kind>(7);
  });
  c = JobConfig{};
  c.reorder_window = JobConfig::max_workers + 1;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
}

namespace {

struct overload_run
{
  jobrunner::JobSummary summary;
  int max_in_flight_late = 0;
};

// A server that answers in 1 ms up to 4 requests at once and takes 100 ms
// (past the 20 ms timeout) beyond that; 1,000 requests from 32 workers.
overload_run
run_against_overloaded_server(bool adaptive,
                              JobConfig::AdaptiveConcurrency::algorithm_kind algorithm =
                                  JobConfig::AdaptiveConcurrency::algorithm_kind::aimd)
{
  asio::io_context io;
  JobConfig config;
  config.workers = 32;
  config.task_timeout = 20ms;
  config.adaptive_concurrency.enabled = adaptive;
  config.adaptive_concurrency.algorithm = algorithm;
  config.adaptive_concurrency.min_workers = 1;
  int in_flight = 0;
  int started = 0;
  overload_run result;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        ++in_flight;
        if (++started > 500)
          result.max_in_flight_late = std::max(result.max_in_flight_late, in_flight);
        struct leave
        {
          int& n;
          ~leave() { --n; }
        } guard{in_flight};
        co_await sleep_for(in_flight > 4 ? 100ms : 1ms);
        co_return x;
      },
      config);
  runner.add_range(jobrunner::test::iota(0, 1000));
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  REQUIRE(out.summary.submitted == 1000);
  REQUIRE(out.summary.succeeded + out.summary.timed_out == 1000);
  result.summary = out.summary;
  return result;
}

} // namespace

TEST_CASE("adaptive concurrency backs off from an overloaded server", "[adaptive]")
{
  const auto fixed = run_against_overloaded_server(false);
  const auto adaptive = run_against_overloaded_server(true);
  CAPTURE(fixed.summary.timed_out, adaptive.summary.timed_out, adaptive.max_in_flight_late);
  CHECK(fixed.summary.lowest_concurrency_limit == 32);
  CHECK(adaptive.summary.lowest_concurrency_limit <= 4);
  // Without the limit nearly every request times out; with it, a minority
  // (additive increase probes past 4 and is cut back).
  CHECK(fixed.summary.timed_out > 900);
  CHECK(adaptive.summary.timed_out * 2 < fixed.summary.timed_out);
  CHECK(adaptive.max_in_flight_late < 32);
}

TEST_CASE("the gradient limit backs off from an overloaded server", "[adaptive][gradient]")
{
  const auto fixed = run_against_overloaded_server(false);
  const auto gradient =
      run_against_overloaded_server(true, JobConfig::AdaptiveConcurrency::algorithm_kind::gradient);
  CAPTURE(fixed.summary.timed_out, gradient.summary.timed_out, gradient.max_in_flight_late);
  CHECK(gradient.summary.lowest_concurrency_limit <= 4);
  CHECK(fixed.summary.timed_out > 900);
  CHECK(gradient.summary.timed_out * 2 < fixed.summary.timed_out);
  CHECK(gradient.max_in_flight_late < 32);
}

TEST_CASE("adaptive concurrency grows from its initial limit while tasks succeed", "[adaptive]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 16;
  config.adaptive_concurrency.enabled = true;
  config.adaptive_concurrency.initial_workers = 1;
  int in_flight = 0;
  int max_in_flight = 0;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        max_in_flight = std::max(max_in_flight, ++in_flight);
        co_await sleep_for(200us);
        --in_flight;
        co_return x;
      },
      config);
  int calls = 0;
  runner.add_range(jobrunner::test::iota(0, 2000)).on_task_complete([&](auto&) { ++calls; });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io)); // parked workers were woken for their end markers
  CHECK(calls == 2000);
  CHECK(out.summary.lowest_concurrency_limit == 1);
  CHECK(runner.stats().concurrency_limit == 16);
  CHECK(max_in_flight == 16);
}

TEST_CASE("parked workers leave when input ends early or the job is cancelled", "[adaptive]")
{
  for (bool cancel : {false, true})
  {
    CAPTURE(cancel);
    asio::io_context io;
    JobConfig config;
    config.workers = 50;
    config.adaptive_concurrency.enabled = true;
    config.adaptive_concurrency.initial_workers = 2;
    JobRunner<int, int> runner(
        io,
        [](int x) -> asio::awaitable<int> {
          co_await sleep_for(1ms);
          co_return x;
        },
        config);
    int calls = 0;
    runner.add_range(jobrunner::test::iota(0, cancel ? 1000 : 3)).on_task_complete([&](auto&) {
      ++calls;
    });
    asio::steady_timer timer(io, 20ms);
    if (cancel)
      timer.async_wait([&](auto) { runner.cancel(); });
    outcome out;
    start(runner, out);
    REQUIRE(run_to_completion(io));
    CHECK(out.calls == 1);
    CHECK(static_cast<std::uint64_t>(calls) == out.summary.submitted);
  }
}

TEST_CASE("ordered delivery on single_threaded: sequence numbers are exactly submission order",
          "[ordered]")
{
  for (std::size_t window : {0u, 3u})
  {
    CAPTURE(window);
    asio::io_context io;
    JobConfig config;
    config.workers = 11;
    config.ordered_delivery = true;
    config.reorder_window = window;
    JobRunner<int, int> runner(
        io, [](int x) { return x; }, config);
    std::vector<int> mismatched;
    // Bursts of items, each burst handed partly to workers waiting in a
    // receive (resumed later) and partly to the queue, where a worker that
    // just finished takes the next one at once.
    runner.add_producer([](auto& out) -> asio::awaitable<void> {
      for (int i = 0; i < 500; ++i)
      {
        co_await out.submit(i);
        if (i % 20 == 19)
          co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      }
    });
    runner.on_task_complete([&](auto& r) {
      if (r.sequence != static_cast<std::uint64_t>(r.item))
        mismatched.push_back(r.item);
    });
    auto s = runner.run();
    CHECK(s.succeeded == 500);
    CHECK(mismatched.empty());
  }
}
