// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// JobConfig::fail_fast (issue 13 item 4): the first item that fails (after
// its retries) cancels the job, which completes with that item's error.
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobrunner::job_status;
using jobrunner::JobConfig;
using jobrunner::JobRunner;
using jobrunner::task_status;
using jobrunner::test::outcome;
using jobrunner::test::run_to_completion;
using jobrunner::test::sleep_for;
using jobrunner::test::start;

namespace {

constexpr int failing_item = 10;

JobConfig fail_fast_config()
{
  JobConfig config;
  config.fail_fast = true;
  config.workers = 4;
  return config;
}

// What the task-complete callbacks saw.
struct seen
{
  std::map<int, int> calls; // item -> number of callbacks
  std::map<task_status, int> by_status;
  int started_after_failure = 0; // tasks that started once the failure was thrown
  bool failure_thrown = false;

  template <class Result>
  void record(const Result& r)
  {
    ++calls[r.item];
    ++by_status[r.status];
  }

  // Every submitted item has exactly one outcome.
  void check_one_outcome_each(const jobrunner::JobSummary& s) const
  {
    CHECK(calls.size() == s.submitted);
    for (auto& [item, n] : calls)
      CHECK(n == 1);
    CHECK(s.submitted == s.succeeded + s.failed + s.cancelled + s.timed_out);
  }
};

template <class Runner>
void check_failed_fast(Runner& runner, asio::io_context& io, seen& w,
                       boost::system::error_code expected)
{
  runner.add_range(jobrunner::test::iota(0, 100)).on_task_complete([&](auto& r) { w.record(r); });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  REQUIRE(out.calls == 1);
  CHECK(out.ec == expected);
  CHECK(out.summary.status == job_status::failed);
  CHECK(out.summary.failed == 1);
  CHECK(out.summary.cancelled > 0);
  CHECK(out.summary.succeeded < 100 - 1);
  CHECK(w.started_after_failure == 0); // no task starts once an item failed
  REQUIRE(out.summary.first_failure);
  CHECK_THROWS_AS(std::rethrow_exception(out.summary.first_failure), boost::system::system_error);
  w.check_one_outcome_each(out.summary);
}

} // namespace

TEST_CASE("fail_fast with a synchronous function: the first failure stops the job with its error",
          "[fail_fast]")
{
  asio::io_context io;
  seen w;
  JobRunner<int, int> runner(
      io,
      [&w](int x) -> int {
        w.started_after_failure += w.failure_thrown;
        if (x == failing_item)
        {
          w.failure_thrown = true;
          throw boost::system::system_error(asio::error::connection_refused);
        }
        return x;
      },
      fail_fast_config());
  check_failed_fast(runner, io, w, asio::error::connection_refused);
}

TEST_CASE("fail_fast with an asynchronous function: the first failure stops the job with its error",
          "[fail_fast]")
{
  asio::io_context io;
  seen w;
  JobRunner<int, int> runner(
      io,
      [&w](int x) -> asio::awaitable<int> {
        w.started_after_failure += w.failure_thrown;
        co_await sleep_for(x == failing_item ? 1ms : 20ms);
        if (x == failing_item)
        {
          w.failure_thrown = true;
          throw boost::system::system_error(asio::error::connection_refused);
        }
        co_return x;
      },
      fail_fast_config());
  check_failed_fast(runner, io, w, asio::error::connection_refused);
}

TEST_CASE("fail_fast: an exception other than system_error completes with errc::task_failed",
          "[fail_fast]")
{
  asio::io_context io;
  JobRunner<int, int> runner(
      io,
      [](int x) -> int {
        if (x == 3)
          throw std::runtime_error("item 3 is bad");
        return x;
      },
      fail_fast_config());
  runner.add_range(jobrunner::test::iota(0, 10));
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.ec == jobrunner::errc::task_failed);
  CHECK(out.summary.status == job_status::failed);
  REQUIRE(out.summary.first_failure);
  try
  {
    std::rethrow_exception(out.summary.first_failure);
  }
  catch (const std::runtime_error& e)
  {
    CHECK(std::string(e.what()) == "item 3 is bad");
  }
}

TEST_CASE("fail_fast: run() rethrows the failed item's own exception", "[fail_fast]")
{
  asio::io_context io;
  JobRunner<int, int> runner(
      io,
      [](int x) -> int {
        if (x == 3)
          throw std::runtime_error("item 3 is bad");
        return x;
      },
      fail_fast_config());
  runner.add_range(jobrunner::test::iota(0, 10));
  CHECK_THROWS_AS(runner.run(), std::runtime_error);
}

TEST_CASE("fail_fast: a timed-out item completes the job with asio::error::timed_out",
          "[fail_fast]")
{
  asio::io_context io;
  auto config = fail_fast_config();
  config.task_timeout = 20ms;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await sleep_for(x == 5 ? 10s : 1ms);
        co_return x;
      },
      config);
  seen w;
  runner.add_range(jobrunner::test::iota(0, 50)).on_task_complete([&](auto& r) { w.record(r); });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.ec == asio::error::timed_out);
  CHECK(out.summary.status == job_status::failed);
  CHECK(out.summary.timed_out == 1);
  w.check_one_outcome_each(out.summary);
}

TEST_CASE("fail_fast counts only final failures: an item that succeeds on a retry does not stop "
          "the job, one failing every attempt does",
          "[fail_fast]")
{
  asio::io_context io;
  auto config = fail_fast_config();
  config.retry.max_attempts = 3;
  config.retry.initial_backoff = 1ms;
  std::map<int, int> runs;
  bool item_2_done = false;
  JobRunner<int, int> runner(
      io,
      [&runs, &item_2_done](int x) -> asio::awaitable<int> {
        co_await sleep_for(1ms);
        const int n = runs[x]++;
        if (x == 2 && n < 2) // succeeds on its third attempt
          throw std::runtime_error("flaky");
        if (x == 7) // fails every attempt, once item 2 has its result
        {
          while (!item_2_done)
            co_await sleep_for(1ms);
          throw std::runtime_error("broken");
        }
        item_2_done = item_2_done || x == 2;
        co_return x;
      },
      config);
  std::map<int, unsigned> attempts;
  seen w;
  runner.add_range(jobrunner::test::iota(0, 8)).on_task_complete([&](auto& r) {
    w.record(r);
    attempts[r.item] = r.attempts;
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.ec == jobrunner::errc::task_failed);
  CHECK(out.summary.status == job_status::failed);
  CHECK(attempts[7] == 3);
  CHECK(w.by_status[task_status::failed] == 1);
  w.check_one_outcome_each(out.summary);

  // The same job without item 7 completes.
  asio::io_context io2;
  runs.clear();
  JobRunner<int, int> ok(
      io2,
      [&runs](int x) -> asio::awaitable<int> {
        co_await sleep_for(1ms);
        if (x == 2 && runs[x]++ < 2)
          throw std::runtime_error("flaky");
        co_return x;
      },
      config);
  ok.add_range(jobrunner::test::iota(0, 7));
  auto s = ok.run();
  CHECK(s.status == job_status::completed);
  CHECK(s.succeeded == 7);
}

TEST_CASE("fail_fast: a job cancelled first stays cancelled, and a job with no failure completes",
          "[fail_fast]")
{
  asio::io_context io;
  JobRunner<int, int> runner(
      io, [](int x) { return x; }, fail_fast_config());
  runner.add_range(jobrunner::test::iota(0, 10));
  auto s = runner.run();
  CHECK(s.status == job_status::completed);
  CHECK_FALSE(s.first_failure);

  asio::io_context io2;
  JobRunner<int, int>* self = nullptr;
  JobRunner<int, int> cancelled(
      io2,
      [&self](int x) -> int {
        if (x == 2)
          self->cancel();
        if (x >= 2)
          throw std::runtime_error("after the cancel");
        return x;
      },
      fail_fast_config());
  self = &cancelled;
  cancelled.add_range(jobrunner::test::iota(0, 10));
  outcome out;
  start(cancelled, out);
  REQUIRE(run_to_completion(io2));
  CHECK(out.ec == asio::error::operation_aborted);
  CHECK(out.summary.status == job_status::cancelled);
  CHECK_FALSE(out.summary.first_failure);
}

TEST_CASE("fail_fast: a failure whose retry the retry budget refuses fails the job",
          "[fail_fast][retry_budget]")
{
  // The budget allows no retry at all: the first failure is final at once,
  // through the budget's refusal, and must stop the job like any final one.
  asio::io_context io;
  JobConfig config = fail_fast_config();
  config.workers = 1;
  config.retry.max_attempts = 3;
  config.retry.initial_backoff = 1ms;
  config.retry_budget.enabled = true;
  config.retry_budget.ratio = 0;
  config.retry_budget.min_per_second = 0;
  int calls = 0;
  JobRunner<int, int> runner(
      io,
      [&calls](int x) -> asio::awaitable<int> {
        ++calls;
        if (x == failing_item)
          throw std::runtime_error("item " + std::to_string(x) + " fails");
        co_return x;
      },
      config);
  runner.add_range(jobrunner::test::iota(0, 1000));
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.status == job_status::failed);
  CHECK(out.summary.retries_refused == 1);
  CHECK(out.summary.failed == 1);
  CHECK(calls < 1000); // the job stopped early
}
