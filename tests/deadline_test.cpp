// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The deadlines (issue 14 item 3) through a whole job, with real timers
// where timing is the point. Bounds are generous (a loaded 2-core machine
// under ASan); the exact bounds asserted come from the item's own
// deadline (TaskResult::deadline) and the clock being monotonic. The
// decisions are tested alone, on a manual clock, in tests/policy/.
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
using steady = std::chrono::steady_clock;

namespace {

std::vector<int> numbers(int n)
{
  std::vector<int> v;
  for (int i = 0; i < n; ++i)
    v.push_back(i);
  return v;
}

asio::awaitable<void> sleep_for(steady::duration d)
{
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

bool is_aborted(const std::exception_ptr& e)
{
  try
  {
    std::rethrow_exception(e);
  }
  catch (const boost::system::system_error& x)
  {
    return x.code() == asio::error::operation_aborted;
  }
  catch (...)
  {
    return false;
  }
}

} // namespace

TEST_CASE("deadline: failing attempts with retries end expired at about the deadline, not after "
          "all their attempts",
          "[deadline][total]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 8; // one per item: a due retry finds a free worker
  config.deadline.total = 500ms;
  config.retry.max_attempts = 1000; // far more than fit in 500 ms
  config.retry.initial_backoff = 20ms;
  config.retry.max_backoff = 20ms;
  std::atomic<int> calls{0};
  JobRunner<int, int> runner(
      io,
      [&calls](int) -> asio::awaitable<int> {
        ++calls;
        co_await sleep_for(2ms);
        throw std::runtime_error("503");
      },
      config);
  std::vector<int> seen(8, 0);
  runner.add_range(numbers(8)).on_task_complete([&](auto& r) {
    const auto now = steady::now();
    ++seen[static_cast<std::size_t>(r.item)];
    CHECK(r.status == task_status::expired);
    CHECK(r.attempts > 1);
    CHECK(r.attempts < 1000);
    REQUIRE(r.deadline != steady::time_point{});
    // Refused only when the backoff (at most 20 ms) would end past the
    // deadline: never earlier than 20 ms before it; and not long after.
    CHECK(now >= r.deadline - 20ms);
    CHECK(now <= r.deadline + 20s);
    // The last attempt's error is kept: its failure, or the cut of an
    // attempt that started just before the deadline.
    REQUIRE(r.error);
    if (!is_aborted(r.error))
      CHECK_THROWS_AS(std::rethrow_exception(r.error), std::runtime_error);
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK_FALSE(out.ec);
  CHECK(out.summary.status == jobrunner::job_status::completed);
  for (int s : seen)
    CHECK(s == 1);
  CHECK(out.summary.submitted == 8);
  CHECK(out.summary.expired == 8);
  CHECK(out.summary.failed == 0);
  CHECK(out.summary.expired_in_queue == 0);
  // Retries scheduled (a due retry that found the deadline passed is counted, not run).
  CHECK(out.summary.retried >= static_cast<std::uint64_t>(calls.load()) - 8);
}

TEST_CASE("deadline: an attempt with no timeout is cut at the deadline and reported expired",
          "[deadline][total]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 2;
  config.deadline.total = 100ms;
  JobRunner<int, int> runner(
      io,
      [](int) -> asio::awaitable<int> {
        co_await sleep_for(1h); // hangs: only the deadline ends it
        co_return 0;
      },
      config);
  int results = 0;
  runner.add_range(numbers(3)).on_task_complete([&](auto& r) {
    ++results;
    CHECK(r.status == task_status::expired);
    CHECK(r.attempts == 1);
    CHECK(steady::now() >= r.deadline);
    CHECK(is_aborted(r.error));
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(results == 3);
  CHECK(out.summary.expired == 3);
  CHECK(out.summary.timed_out == 0);
}

TEST_CASE("deadline: a task timeout shorter than the time left is still a timeout",
          "[deadline][total]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 2;
  config.task_timeout = 20ms;
  config.deadline.total = 1h;
  JobRunner<int, int> runner(
      io,
      [](int) -> asio::awaitable<int> {
        co_await sleep_for(1h);
        co_return 0;
      },
      config);
  int results = 0;
  runner.add_range(numbers(3)).on_task_complete([&](auto& r) {
    ++results;
    CHECK(r.status == task_status::timed_out);
    CHECK(steady::now() < r.deadline);
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(results == 3);
  CHECK(out.summary.timed_out == 3);
  CHECK(out.summary.expired == 0);
}

TEST_CASE("deadline: a push-back whose pause ends past the deadline expires the item at once",
          "[deadline][total]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.deadline.total = 200ms;
  int calls = 0;
  JobRunner<int, int> runner(
      io,
      [&calls](int) -> asio::awaitable<int> {
        ++calls;
        co_await sleep_for(0ms);
        throw jobrunner::retry_after(std::chrono::seconds(120)); // far past the deadline
      },
      config);
  int results = 0;
  runner.add_range(numbers(1)).on_task_complete([&](auto& r) {
    ++results;
    CHECK(r.status == task_status::expired);
    CHECK(r.attempts == 1);
    CHECK(r.pushbacks == 1);
    CHECK(steady::now() < r.deadline + 60s); // not after the 120 s pause
    CHECK_THROWS_AS(std::rethrow_exception(r.error), jobrunner::retry_after);
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io, 100s));
  CHECK(results == 1);
  CHECK(calls == 1);
  CHECK(out.summary.expired == 1);
  CHECK(out.summary.elapsed < 60s);
}

TEST_CASE("deadline: no attempt starts past the deadline after a rate-limit wait",
          "[deadline][total]")
{
  // One worker at 2 starts a second: each item after the first waits about
  // 500 ms for its slot, past its 50 ms deadline, and is never run.
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.rate_limit.per_second = 2;
  config.rate_limit.burst = 1;
  config.deadline.total = 50ms;
  std::vector<steady::time_point> called(4);
  JobRunner<int, int> runner(
      io,
      [&called](int x) -> asio::awaitable<int> {
        called[static_cast<std::size_t>(x)] = steady::now();
        co_return x;
      },
      config);
  std::vector<int> seen(4, 0);
  runner.add_range(numbers(4)).on_task_complete([&](auto& r) {
    const auto i = static_cast<std::size_t>(r.item);
    ++seen[i];
    if (r.status == task_status::succeeded)
      CHECK(called[i] != steady::time_point{});
    else
    {
      CHECK(r.status == task_status::expired);
      CHECK(r.attempts == 0);
      CHECK(called[i] == steady::time_point{}); // never called
      CHECK(!r.error);
    }
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  for (int s : seen)
    CHECK(s == 1);
  CHECK(out.summary.succeeded + out.summary.expired == 4);
  CHECK(out.summary.expired >= 1);
}

TEST_CASE("deadline: items stuck in the queue behind slow ones expire without running",
          "[deadline][queue]")
{
  // Two workers, every task 1 s: whichever two items run first, every other
  // item waits at least 1 s in the queue, past its 200 ms queue wait.
  asio::io_context io;
  JobConfig config;
  config.workers = 2;
  config.deadline.queue_wait = 200ms;
  std::vector<int> called(12, 0);
  JobRunner<int, int> runner(
      io,
      [&called](int x) -> asio::awaitable<int> {
        ++called[static_cast<std::size_t>(x)];
        co_await sleep_for(1s);
        co_return x;
      },
      config);
  std::vector<int> seen(12, 0);
  runner.add_range(numbers(12)).on_task_complete([&](auto& r) {
    const auto i = static_cast<std::size_t>(r.item);
    ++seen[i];
    if (r.status == task_status::succeeded)
      CHECK(called[i] == 1);
    else
    {
      CHECK(r.status == task_status::expired_in_queue);
      CHECK(called[i] == 0); // the function never saw it
      CHECK(r.attempts == 0);
      CHECK(!r.error);
    }
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK_FALSE(out.ec);
  CHECK(out.summary.status == jobrunner::job_status::completed);
  for (int s : seen)
    CHECK(s == 1);
  int calls = 0;
  for (int c : called)
    calls += c;
  CHECK(calls <= 2);
  CHECK(out.summary.submitted == 12);
  CHECK(out.summary.succeeded == static_cast<std::uint64_t>(calls));
  CHECK(out.summary.expired_in_queue == 12 - out.summary.succeeded);
  CHECK(out.summary.expired_in_queue >= 10);
  CHECK(out.summary.expired == 0);
}

TEST_CASE("deadline: items added to an open input carry their time too", "[deadline][queue]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.deadline.queue_wait = 200ms;
  int calls = 0;
  JobRunner<int, int> runner(
      io,
      [&calls](int x) -> asio::awaitable<int> {
        ++calls;
        co_await sleep_for(1s);
        co_return x;
      },
      config);
  auto input = runner.open_input();
  asio::post(io, [&] {
    for (int i = 0; i < 4; ++i)
    {
      int item = i;
      CHECK(input.try_add(item));
    }
    input.async_add(4, [](boost::system::error_code ec) { CHECK(!ec); });
    input.close();
  });
  int results = 0;
  runner.on_task_complete([&](auto& r) {
    ++results;
    CHECK((r.status == task_status::succeeded || r.status == task_status::expired_in_queue));
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(results == 5);
  CHECK(calls <= 1);
  CHECK(out.summary.expired_in_queue >= 4);
  CHECK(out.summary.succeeded + out.summary.expired_in_queue == 5);
}

TEST_CASE("deadline: with a queue wait set, items that do not wait long all run",
          "[deadline][queue]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 4;
  config.deadline.queue_wait = 60s;
  config.deadline.total = 60s;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await sleep_for(0ms);
        co_return x;
      },
      config);
  runner.add_range(numbers(500)).on_task_complete([](auto& r) {
    CHECK(r.status == task_status::succeeded);
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.succeeded == 500);
  CHECK(out.summary.expired + out.summary.expired_in_queue == 0);
}
