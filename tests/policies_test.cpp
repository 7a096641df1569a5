// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The API-calling policies of JobConfig: per-task timeout and failure budget,
// with real Asio timers (short durations, loose bounds for a loaded machine).
#include <jobrunner/config.hpp>
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::JobRunner;
using jobrunner::JobSummary;
using jobrunner::task_status;
using jobrunner::test::outcome;
using jobrunner::test::run_to_completion;
using jobrunner::test::start;

namespace {

asio::awaitable<int> sleep_ms(int ms)
{
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
  co_return ms;
}

} // namespace

TEST_CASE("a task running past task_timeout is interrupted and reported timed out",
          "[policies][timeout]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 2;
  config.task_timeout = 50ms;
  JobRunner<int, int> runner(
      io, [](int ms) { return sleep_ms(ms); }, config);
  std::vector<task_status> statuses(6);
  int aborted_errors = 0;
  runner.add_range(std::vector<int>{10000, 1, 10000, 1, 10000, 1}).on_task_complete([&](auto& r) {
    if (r.status == task_status::timed_out)
    {
      try
      {
        std::rethrow_exception(r.error);
      }
      catch (const boost::system::system_error& e)
      {
        aborted_errors += e.code() == asio::error::operation_aborted;
      }
      CHECK(r.duration >= 49ms);
    }
    else
      CHECK(r.status == task_status::succeeded);
  });
  outcome out;
  start(runner, out);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io));
  CHECK(std::chrono::steady_clock::now() - t0 < 5s); // not the 10 s of the slow tasks
  CHECK(out.calls == 1);
  CHECK_FALSE(out.ec);
  CHECK(out.summary.status == jobrunner::job_status::completed);
  CHECK(out.summary.timed_out == 3);
  CHECK(out.summary.succeeded == 3);
  CHECK(aborted_errors == 3);
}

TEST_CASE("after a timeout the same worker runs its next task normally", "[policies][timeout]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.task_timeout = 30ms;
  JobRunner<int, int> runner(
      io, [](int ms) { return sleep_ms(ms); }, config);
  std::vector<task_status> statuses;
  runner.add_range(std::vector<int>{10000, 1, 2, 10000, 1}).on_task_complete([&](auto& r) {
    statuses.push_back(r.status);
  });
  auto s = runner.run();
  CHECK(statuses
        == std::vector<task_status>{task_status::timed_out, task_status::succeeded,
                                    task_status::succeeded, task_status::timed_out,
                                    task_status::succeeded});
  CHECK(s.timed_out == 2);
}

TEST_CASE("a task that throws before its timeout is failed at once, not timed out",
          "[policies][timeout]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.task_timeout = 2s;
  JobRunner<int, int> runner(
      io,
      [](int ms) -> asio::awaitable<int> {
        co_await sleep_ms(ms);
        throw std::runtime_error("early");
      },
      config);
  runner.add_range(std::vector<int>{5});
  auto t0 = std::chrono::steady_clock::now();
  auto s = runner.run();
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
  CHECK(s.failed == 1);
  CHECK(s.timed_out == 0);
}

TEST_CASE("a synchronous function is never timed out", "[policies][timeout]")
{
  asio::io_context io;
  JobConfig config;
  config.task_timeout = 1ms;
  JobRunner<int, int> runner(
      io,
      [](int x) {
        auto until = std::chrono::steady_clock::now() + 10ms;
        while (std::chrono::steady_clock::now() < until)
        {}
        return x;
      },
      config);
  runner.add_range(std::vector<int>{1, 2});
  auto s = runner.run();
  CHECK(s.succeeded == 2);
  CHECK(s.timed_out == 0);
}

TEST_CASE("exceeding max_failures aborts the job and every submitted item still gets one call",
          "[policies][budget]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 4;
  config.failure_budget.max_failures = 10;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        throw std::runtime_error("always " + std::to_string(x));
      },
      config);
  std::vector<int> calls(100000, 0);
  int job_calls = 0;
  runner.add_range(jobrunner::test::iota(0, 100000))
      .on_task_complete([&](auto& r) { ++calls[static_cast<std::size_t>(r.item)]; })
      .on_job_complete([&](const JobSummary&) { ++job_calls; });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  const auto& s = out.summary;
  CHECK(out.ec == jobrunner::errc::failure_budget_exceeded);
  CHECK(s.status == jobrunner::job_status::aborted);
  CHECK(job_calls == 1);
  CHECK(s.failed >= 10);
  CHECK(s.submitted < 100000);
  CHECK(s.submitted == s.failed + s.cancelled);
  std::uint64_t total = 0;
  for (int c : calls)
  {
    REQUIRE(c <= 1);
    total += static_cast<std::uint64_t>(c);
  }
  CHECK(total == s.submitted);
}

TEST_CASE("a failure ratio aborts only above the ratio and after min_results", "[policies][budget]")
{
  auto run_with = [](double ratio) {
    asio::io_context io;
    JobConfig config;
    config.workers = 2;
    config.failure_budget.max_failure_ratio = ratio;
    config.failure_budget.min_results = 20;
    JobRunner<int, int> runner(
        io,
        [](int x) {
          if (x % 2 == 0)
            throw std::runtime_error("half of them");
          return x;
        },
        config);
    runner.add_range(jobrunner::test::iota(0, 1000));
    return runner.run();
  };
  auto aborted = run_with(0.4); // 50% fail: above 40%
  CHECK(aborted.status == jobrunner::job_status::aborted);
  CHECK(aborted.failed + aborted.succeeded >= 20);
  CHECK(aborted.submitted < 1000);
  auto completed = run_with(0.6); // 50% fail: within 60%
  CHECK(completed.status == jobrunner::job_status::completed);
  CHECK(completed.failed == 500);
}

TEST_CASE("invalid policy values are rejected at construction", "[policies][config]")
{
  asio::io_context io;
  auto fn = [](int x) { return x; };
  JobConfig negative;
  negative.task_timeout = -1ms;
  CHECK_THROWS_AS((JobRunner<int, int>(io, fn, negative)), std::invalid_argument);
  JobConfig ratio;
  ratio.failure_budget.max_failure_ratio = 1.5;
  CHECK_THROWS_AS((JobRunner<int, int>(io, fn, ratio)), std::invalid_argument);
}

TEST_CASE("rate_limit caps the task starts in every window", "[policies][rate]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 8;
  config.rate_limit.per_second = 200;
  config.rate_limit.burst = 10;
  std::vector<std::chrono::steady_clock::time_point> starts;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        starts.push_back(std::chrono::steady_clock::now());
        co_return x;
      },
      config);
  runner.add_range(jobrunner::test::iota(0, 150));
  auto t0 = std::chrono::steady_clock::now();
  auto s = runner.run();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(s.succeeded == 150);
  REQUIRE(starts.size() == 150);
  // 10 at once, then one every 5 ms: 140 x 5 ms at least.
  CHECK(elapsed >= 695ms);
  CHECK(elapsed < 10s);
  std::size_t worst = 0;
  for (std::size_t i = 0; i < starts.size(); ++i)
  {
    std::size_t in_window = 0;
    for (auto t : starts)
      in_window += t >= starts[i] && t < starts[i] + 100ms;
    worst = std::max(worst, in_window);
  }
  INFO("most starts in a 100 ms window: " << worst);
  // The gate grants at most rate x window + burst slots in a window. A start
  // may come late (a loaded machine wakes a worker after its slot), so a
  // window can also hold one late slot per worker. Without the gate all 150
  // would start at once.
  CHECK(worst <= 200 / 10 + 10 + config.workers);
}

TEST_CASE("a cancel ends the waits for rate-limited starts", "[policies][rate]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 4;
  config.rate_limit.per_second = 1;
  config.rate_limit.burst = 1;
  JobRunner<int, int> runner(
      io, [](int x) -> asio::awaitable<int> { co_return x; }, config);
  runner.add_range(jobrunner::test::iota(0, 100));
  asio::steady_timer timer(io, 50ms);
  timer.async_wait([&](auto) { runner.cancel(); });
  outcome out;
  start(runner, out);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io));
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(out.summary.status == jobrunner::job_status::cancelled);
  CHECK(out.summary.succeeded <= 2);
  CHECK(out.summary.submitted == out.summary.succeeded + out.summary.cancelled);
}

TEST_CASE("invalid rate limits are rejected at construction", "[policies][config]")
{
  asio::io_context io;
  auto fn = [](int x) { return x; };
  JobConfig negative;
  negative.rate_limit.per_second = -5;
  CHECK_THROWS_AS((JobRunner<int, int>(io, fn, negative)), std::invalid_argument);
  JobConfig no_burst;
  no_burst.rate_limit.per_second = 10;
  no_burst.rate_limit.burst = 0;
  CHECK_THROWS_AS((JobRunner<int, int>(io, fn, no_burst)), std::invalid_argument);
}

TEST_CASE("a push-back pauses every worker, then the item runs again", "[policies][pushback]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 4;
  using clock = std::chrono::steady_clock;
  struct start_record
  {
    clock::time_point at;
    int item;
  };
  std::vector<start_record> starts;
  clock::time_point pushed_at{};
  bool pushed = false;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        starts.push_back({clock::now(), x});
        co_await sleep_ms(1);
        if (x == 5 && !pushed)
        {
          pushed = true;
          pushed_at = clock::now();
          throw jobrunner::retry_after(100ms);
        }
        co_return x;
      },
      config);
  unsigned attempts_of_5 = 0;
  runner.add_range(jobrunner::test::iota(0, 40)).on_task_complete([&](auto& r) {
    CHECK(r.ok());
    if (r.item == 5)
      attempts_of_5 = r.attempts;
    else
      CHECK(r.attempts == 1);
  });
  auto s = runner.run();
  CHECK(s.succeeded == 40);
  CHECK(attempts_of_5 == 2);
  CHECK(s.retried == 1);
  CHECK(s.paused >= 99ms);
  REQUIRE(pushed);
  // No task started during the pause.
  for (const auto& st : starts)
    if (st.at > pushed_at)
      CHECK(st.at >= pushed_at + 99ms);
}

TEST_CASE("an item pushed back more than max_pushbacks times fails with retry_after",
          "[policies][pushback]")
{
  asio::io_context io;
  JobConfig config;
  config.max_pushbacks = 3;
  JobRunner<int, int> runner(
      io,
      [](int) -> asio::awaitable<int> {
        co_await sleep_ms(0);
        throw jobrunner::retry_after(1ms);
      },
      config);
  unsigned attempts = 0;
  runner.add_range(std::vector<int>{1}).on_task_complete([&](auto& r) {
    attempts = r.attempts;
    CHECK(r.status == task_status::failed);
    CHECK_THROWS_AS(std::rethrow_exception(r.error), jobrunner::retry_after);
  });
  auto s = runner.run();
  CHECK(attempts == 4);
  CHECK(s.failed == 1);
  CHECK(s.retried == 3);
}

TEST_CASE("a cancel ends a push-back pause at once", "[policies][pushback]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 2;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await sleep_ms(1);
        if (x == 0)
          throw jobrunner::retry_after(10s);
        co_return x;
      },
      config);
  runner.add_range(jobrunner::test::iota(0, 100));
  asio::steady_timer timer(io, 50ms);
  timer.async_wait([&](auto) { runner.cancel(); });
  outcome out;
  start(runner, out);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io));
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(out.summary.status == jobrunner::job_status::cancelled);
  CHECK(out.summary.submitted
        == out.summary.succeeded + out.summary.failed + out.summary.cancelled);
}

TEST_CASE("max_pushbacks counts push-backs, not attempts that failed and were retried",
          "[policies][pushback][retry]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.max_pushbacks = 1;
  config.retry.max_attempts = 3;
  config.retry.initial_backoff = 1ms;
  config.retry.max_backoff = 1ms;
  int runs = 0;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        co_await sleep_ms(0);
        ++runs;
        if (runs <= 2)
          throw std::runtime_error("flaky"); // two failures, each retried
        if (runs == 3)
          throw jobrunner::retry_after(1ms); // one push-back: within max_pushbacks
        co_return x;
      },
      config);
  unsigned attempts = 0;
  unsigned pushbacks = 0;
  task_status status = task_status::cancelled;
  runner.add_range(std::vector<int>{7}).on_task_complete([&](auto& r) {
    status = r.status;
    attempts = r.attempts;
    pushbacks = r.pushbacks;
  });
  auto s = runner.run();
  CHECK(status == task_status::succeeded);
  CHECK(attempts == 4);
  CHECK(pushbacks == 1);
  CHECK(s.succeeded == 1);
}

TEST_CASE("a push-back does not use up the item's retry attempts", "[policies][pushback][retry]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.retry.max_attempts = 2;
  config.retry.initial_backoff = 1ms;
  config.retry.max_backoff = 1ms;
  int runs = 0;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        co_await sleep_ms(0);
        ++runs;
        if (runs <= 2)
          throw jobrunner::retry_after(1ms); // two push-backs
        if (runs == 3)
          throw std::runtime_error("flaky"); // the first failure: one retry is left
        co_return x;
      },
      config);
  task_status status = task_status::cancelled;
  unsigned attempts = 0;
  runner.add_range(std::vector<int>{7}).on_task_complete([&](auto& r) {
    status = r.status;
    attempts = r.attempts;
  });
  runner.run();
  CHECK(status == task_status::succeeded);
  CHECK(attempts == 4);
}

TEST_CASE("an item cancelled during its push-back pause keeps the push-back as its error",
          "[policies][pushback][cancel]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  JobRunner<int, int>* self = nullptr;
  // The task posts the cancel, then pushes back: the cancel runs after the
  // task has thrown, while the worker waits out the 10 s pause.
  JobRunner<int, int> runner(
      io,
      [&](int) -> int {
        asio::post(io, [&] { self->cancel(); });
        throw jobrunner::retry_after(10s);
      },
      config);
  self = &runner;
  std::exception_ptr error;
  task_status status = task_status::succeeded;
  unsigned attempts = 0;
  runner.add_range(std::vector<int>{1}).on_task_complete([&](auto& r) {
    status = r.status;
    error = r.error;
    attempts = r.attempts;
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.status == jobrunner::job_status::cancelled);
  CHECK(status == task_status::cancelled);
  CHECK(attempts == 1);
  REQUIRE(error);
  CHECK_THROWS_AS(std::rethrow_exception(error), jobrunner::retry_after);
}

TEST_CASE("the failure ratio is checked on every result once min_results are in",
          "[policies][budget]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.failure_budget.max_failure_ratio = 0.16;
  config.failure_budget.min_results = 23;
  // The first 7 results fail, all before min_results; the rest succeed. At
  // result 23 the ratio is 7/23 (30%): over the budget although no failure
  // arrives after that.
  JobRunner<int, int> runner(
      io,
      [](int x) {
        if (x < 7)
          throw std::runtime_error("early failure");
        return x;
      },
      config);
  runner.add_range(jobrunner::test::iota(0, 28));
  auto s = runner.run();
  CHECK(s.status == jobrunner::job_status::aborted);
  CHECK(s.failed == 7);
}

TEST_CASE("max_failures = 1: the first failure aborts the job", "[policies][budget]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.failure_budget.max_failures = 1;
  JobRunner<int, int> runner(
      io,
      [](int x) {
        if (x == 3)
          throw std::runtime_error("the first failure");
        return x;
      },
      config);
  runner.add_range(jobrunner::test::iota(0, 10'000));
  auto s = runner.run();
  CHECK(s.status == jobrunner::job_status::aborted);
  CHECK(s.failed == 1);
  CHECK(s.submitted < 10'000);
}
