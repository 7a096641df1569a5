// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Issue 14's policies through a whole job, with real timers where timing is
// the point (short durations; no assertion on how long anything took
// except generous bounds). Their decisions are tested alone, on a manual
// clock, in tests/policy/.
#include <jobrunner/config.hpp>
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::JobRunner;
using jobrunner::task_status;
using jobrunner::test::outcome;
using jobrunner::test::run_to_completion;
using jobrunner::test::start;

namespace {

JobConfig breaker_config(std::size_t workers)
{
  JobConfig config;
  config.workers = workers;
  auto& b = config.circuit_breaker;
  b.enabled = true;
  b.failure_rate = 0;
  b.consecutive_failures = 2;
  b.open_time = 2ms;
  b.max_open_time = 8ms;
  b.half_open_time = 60s;
  return config;
}

std::vector<int> numbers(int n)
{
  std::vector<int> v;
  for (int i = 0; i < n; ++i)
    v.push_back(i);
  return v;
}

} // namespace

TEST_CASE("breaker: a dead service ends the job unavailable, every submitted item reported once",
          "[resilience][breaker]")
{
  asio::io_context io;
  JobConfig config = breaker_config(4);
  // Long enough for a second opening even when a wake-up is late (the
  // open time is 2 ms, then 4 and 8).
  config.circuit_breaker.give_up_after = 1s;
  std::atomic<int> calls{0};
  JobRunner<int, int> runner(
      io,
      [&calls](int) -> asio::awaitable<int> {
        ++calls;
        throw std::runtime_error("connection refused");
        co_return 0;
      },
      config);
  std::vector<int> seen(200, 0);
  int unavailable_errors = 0, ran_and_failed = 0;
  runner.add_range(numbers(200)).on_task_complete([&](auto& r) {
    ++seen[static_cast<std::size_t>(r.item)];
    if (r.status == task_status::failed)
    {
      ++ran_and_failed;
      CHECK(r.attempts == 1);
      return;
    }
    REQUIRE(r.status == task_status::unavailable);
    CHECK(r.attempts == 0); // not run: the breaker was open
    try
    {
      std::rethrow_exception(r.error);
    }
    catch (const boost::system::system_error& e)
    {
      unavailable_errors += e.code() == jobrunner::errc::service_unavailable;
    }
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.ec == jobrunner::errc::service_unavailable);
  CHECK(out.summary.status == jobrunner::job_status::unavailable);
  // The producer was cancelled with the job: what it submitted was reported once.
  int reported = 0;
  for (int s : seen)
  {
    CHECK(s <= 1);
    reported += s;
  }
  CHECK(out.summary.submitted == static_cast<std::uint64_t>(reported));
  CHECK(out.summary.unavailable == static_cast<std::uint64_t>(unavailable_errors));
  CHECK(out.summary.failed == static_cast<std::uint64_t>(ran_and_failed));
  CHECK(out.summary.failed + out.summary.unavailable == out.summary.submitted);
  CHECK(out.summary.unavailable > 0);
  CHECK(out.summary.cancelled == 0);
  // The four first calls, then one probe per opening: not 200 calls.
  CHECK(calls.load() == ran_and_failed);
  CHECK(out.summary.breaker_opened >= 2);
  CHECK(static_cast<std::uint64_t>(calls.load()) <= 4 + out.summary.breaker_opened);
}

TEST_CASE("breaker: open pauses dispatch (no item fails for it), a good probe resumes",
          "[resilience][breaker]")
{
  // One worker, so the order is fixed: calls 1-3 fail. Items 0 and 1 fail
  // and open the breaker; item 2 waits, probes (call 3 fails: open longer),
  // waits again... no: a failed probe's item is final (no retry), so item 3
  // probes next, succeeds, closes the breaker; the rest run.
  asio::io_context io;
  JobConfig config = breaker_config(1);
  std::atomic<int> calls{0};
  JobRunner<int, int> runner(
      io,
      [&calls](int x) -> asio::awaitable<int> {
        if (++calls <= 3)
          throw std::runtime_error("503");
        co_return x;
      },
      config);
  std::vector<task_status> status(50, task_status::cancelled);
  runner.add_range(numbers(50)).on_task_complete([&](auto& r) {
    status[static_cast<std::size_t>(r.item)] = r.status;
    CHECK(r.attempts == 1);
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK_FALSE(out.ec);
  CHECK(out.summary.status == jobrunner::job_status::completed);
  CHECK(out.summary.failed == 3);
  CHECK(out.summary.succeeded == 47);
  CHECK(out.summary.breaker_opened == 2); // opened, then again after the failed probe
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(status[i] == task_status::failed);
  CHECK(calls.load() == 50);
}

TEST_CASE("breaker: the waiting workers are woken when a probe closes it", "[resilience][breaker]")
{
  // half_open_time is 60 s: a worker that waited for it instead of the wake
  // would keep the job running for a minute.
  asio::io_context io;
  JobConfig config = breaker_config(8);
  std::atomic<int> calls{0};
  JobRunner<int, int> runner(
      io,
      [&calls](int x) -> asio::awaitable<int> {
        if (++calls <= 2)
          throw std::runtime_error("503");
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        co_return x;
      },
      config);
  runner.add_range(numbers(400));
  outcome out;
  start(runner, out);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io));
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);
  CHECK(out.summary.status == jobrunner::job_status::completed);
  CHECK(out.summary.succeeded + out.summary.failed == 400);
  CHECK(out.summary.breaker_opened >= 1);
}

TEST_CASE("breaker: push-back (retry_after) is not a breaker failure", "[resilience][breaker]")
{
  asio::io_context io;
  JobConfig config = breaker_config(1);
  config.circuit_breaker.consecutive_failures = 1;
  config.max_pushbacks = 10;
  std::atomic<int> calls{0};
  JobRunner<int, int> runner(
      io,
      [&calls](int x) -> asio::awaitable<int> {
        if (++calls <= 5)
          throw jobrunner::retry_after(1ms);
        co_return x;
      },
      config);
  runner.add_range(numbers(10));
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.status == jobrunner::job_status::completed);
  CHECK(out.summary.succeeded == 10);
  CHECK(out.summary.breaker_opened == 0);
}

TEST_CASE("breaker: a cancelled job does not wait for the breaker", "[resilience][breaker]")
{
  asio::io_context io;
  JobConfig config = breaker_config(4);
  config.circuit_breaker.open_time = 120s; // past run_to_completion's guard
  config.circuit_breaker.max_open_time = 120s;
  JobRunner<int, int> runner(
      io,
      [](int) -> asio::awaitable<int> {
        throw std::runtime_error("down");
        co_return 0;
      },
      config);
  runner.add_range(numbers(100)).on_task_complete([&](auto& r) {
    CHECK(r.status != task_status::unavailable);
  });
  asio::steady_timer later(io, 200ms);
  later.async_wait([&](boost::system::error_code) { runner.cancel(); });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.status == jobrunner::job_status::cancelled);
  CHECK(out.summary.failed + out.summary.cancelled == 100);
}

TEST_CASE("breaker: breaker_failure_if says which failures are the service's",
          "[resilience][breaker]")
{
  // Every item fails, but as "not found" (the item's fault): the breaker
  // must stay closed and every item run.
  asio::io_context io;
  JobConfig config = breaker_config(2);
  std::atomic<int> calls{0};
  JobRunner<int, int> runner(
      io,
      [&calls](int) -> asio::awaitable<int> {
        ++calls;
        throw std::invalid_argument("404");
        co_return 0;
      },
      config);
  runner.add_range(numbers(100));
  runner.breaker_failure_if([](const auto& r) {
    try
    {
      std::rethrow_exception(r.error);
    }
    catch (const std::invalid_argument&)
    {
      return false;
    }
    catch (...)
    {
      return true;
    }
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.status == jobrunner::job_status::completed);
  CHECK(out.summary.failed == 100);
  CHECK(out.summary.breaker_opened == 0);
  CHECK(calls.load() == 100);
}

TEST_CASE("retry budget: an outage retries a fraction of the items, refused ones report their last "
          "attempt",
          "[resilience][budget]")
{
  // One worker, every attempt fails, 5 attempts allowed: without the
  // budget 400 retries. With 10% of first attempts (no floor), item k may
  // retry once k/10 retries are paid for: 10 retries, each of those items
  // then refused once more, every other item refused at once.
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.retry.max_attempts = 5;
  config.retry.initial_backoff = 0ms;
  config.retry.max_backoff = 0ms;
  config.retry_budget.enabled = true;
  config.retry_budget.ratio = 0.1;
  config.retry_budget.min_per_second = 0;
  config.retry_budget.window = std::chrono::hours(1);
  JobRunner<int, int> runner(
      io,
      [](int) -> asio::awaitable<int> {
        throw std::runtime_error("503");
        co_return 0;
      },
      config);
  int with_error = 0, attempts = 0;
  runner.add_range(numbers(100)).on_task_complete([&](auto& r) {
    CHECK(r.status == task_status::failed);
    with_error += r.error ? 1 : 0;
    attempts += static_cast<int>(r.attempts);
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.status == jobrunner::job_status::completed);
  CHECK(out.summary.failed == 100);
  CHECK(with_error == 100);
  CHECK(out.summary.retried == 10);
  CHECK(attempts == 110);
  CHECK(out.summary.retries_refused == 100);
}

// run(), like async_run, hands back the summary of a job that a policy ended
// (the failure budget, the breaker giving up): only errors of the run itself
// throw.
TEST_CASE("breaker: run() returns the summary of a job the breaker ended", "[resilience][breaker]")
{
  asio::io_context io;
  JobConfig config = breaker_config(2);
  config.circuit_breaker.give_up_after = 20ms;
  JobRunner<int, int> runner(
      io, [](int) -> int { throw std::runtime_error("connection refused"); }, config);
  runner.add_range(numbers(100));
  jobrunner::JobSummary s;
  REQUIRE_NOTHROW(s = runner.run());
  CHECK(s.status == jobrunner::job_status::unavailable);
  CHECK(s.failed + s.unavailable == s.submitted);
  CHECK(s.unavailable > 0);
}
