// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// JobConfig::retry: attempts, backoff off the workers, the retry predicate,
// cancellation of waiting retries, and how input ends while retries wait.
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <stdexcept>
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

namespace {

JobConfig retrying(std::size_t attempts, std::chrono::milliseconds backoff)
{
  JobConfig config;
  config.retry.max_attempts = attempts;
  config.retry.initial_backoff = backoff;
  config.retry.max_backoff = backoff * 4;
  return config;
}

} // namespace

TEST_CASE("a flaky item is retried until it succeeds, with its attempt count", "[retry]")
{
  for (std::size_t capacity : {0u, 1u, 100u})
  {
    CAPTURE(capacity);
    asio::io_context io;
    auto config = retrying(3, 1ms);
    config.workers = 4;
    config.work_queue_capacity = capacity;
    std::map<int, int> runs;
    JobRunner<int, int> runner(
        io,
        [&](int x) -> asio::awaitable<int> {
          co_await sleep_for(0ms);
          if (runs[x]++ < x % 3) // item x fails x % 3 times
            throw std::runtime_error("flaky");
          co_return x;
        },
        config);
    std::map<int, int> calls;
    runner.add_range(jobrunner::test::iota(0, 60)).on_task_complete([&](auto& r) {
      ++calls[r.item];
      CHECK(r.ok());
      CHECK_FALSE(r.error);
      CHECK(r.attempts == static_cast<unsigned>(r.item % 3 + 1));
    });
    outcome out;
    start(runner, out);
    REQUIRE(run_to_completion(io));
    CHECK_FALSE(out.ec);
    CHECK(out.summary.succeeded == 60);
    CHECK(out.summary.retried == 60); // 20 items x 1 + 20 items x 2
    CHECK(calls.size() == 60);
    for (auto& [item, n] : calls)
      CHECK(n == 1);
  }
}

TEST_CASE("an item failing every attempt ends failed with its last error after max_attempts",
          "[retry]")
{
  asio::io_context io;
  JobRunner<int, int> runner(
      io,
      [n = 0](int) mutable -> asio::awaitable<int> {
        co_await sleep_for(0ms);
        throw std::runtime_error("attempt " + std::to_string(++n));
      },
      retrying(4, 1ms));
  unsigned attempts = 0;
  std::string last;
  runner.add_range(std::vector<int>{7}).on_task_complete([&](auto& r) {
    attempts = r.attempts;
    CHECK(r.status == task_status::failed);
    try
    {
      std::rethrow_exception(r.error);
    }
    catch (const std::runtime_error& e)
    {
      last = e.what();
    }
  });
  auto s = runner.run();
  CHECK(attempts == 4);
  CHECK(last == "attempt 4");
  CHECK(s.failed == 1);
  CHECK(s.retried == 3);
}

TEST_CASE("the retry predicate decides by exception, error code or result", "[retry]")
{
  asio::io_context io;
  // Item 0 throws invalid_argument (not retryable), 1 throws a retryable
  // error code, 2 returns -1 (a result to retry), 3 succeeds at once.
  std::map<int, int> runs;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        co_await sleep_for(0ms);
        const int n = runs[x]++;
        if (x == 0)
          throw std::invalid_argument("bad input");
        if (x == 1 && n < 2)
          throw boost::system::system_error(asio::error::connection_reset);
        if (x == 2 && n < 1)
          co_return -1;
        co_return x;
      },
      retrying(5, 1ms));
  runner.retry_if([](const auto& r) {
    if (r.ok())
      return *r.value == -1;
    try
    {
      std::rethrow_exception(r.error);
    }
    catch (const boost::system::system_error& e)
    {
      return e.code() == asio::error::connection_reset;
    }
    catch (...)
    {
      return false;
    }
  });
  std::map<int, unsigned> attempts;
  std::map<int, task_status> status;
  runner.add_range(jobrunner::test::iota(0, 4)).on_task_complete([&](auto& r) {
    attempts[r.item] = r.attempts;
    status[r.item] = r.status;
  });
  auto s = runner.run();
  CHECK(attempts == std::map<int, unsigned>{{0, 1}, {1, 3}, {2, 2}, {3, 1}});
  CHECK(status[0] == task_status::failed);
  CHECK(status[1] == task_status::succeeded);
  CHECK(status[2] == task_status::succeeded);
  CHECK(s.retried == 3);
}

TEST_CASE(
    "default_retry_if: failed and timed out are retryable, and a custom predicate can add to it",
    "[retry]")
{
  using result = jobrunner::TaskResult<int, int>;
  result r(0);
  r.status = task_status::failed;
  CHECK(jobrunner::default_retry_if(r));
  r.status = task_status::timed_out;
  CHECK(jobrunner::default_retry_if(r));
  r.status = task_status::cancelled;
  CHECK_FALSE(jobrunner::default_retry_if(r));
  r.status = task_status::succeeded;
  r.value = 1;
  CHECK_FALSE(jobrunner::default_retry_if(r));

  // A predicate that adds "retry a result of -1" to the default keeps
  // retrying the timeouts (item 0 times out once) and the failures (item 1
  // throws once); a predicate that does not call the default would stop.
  asio::io_context io;
  auto config = retrying(3, 1ms);
  config.task_timeout = 20ms;
  std::map<int, int> runs;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        const int n = runs[x]++;
        if (x == 0 && n == 0)
          co_await sleep_for(10s);
        co_await sleep_for(0ms);
        if (x == 1 && n == 0)
          throw std::runtime_error("flaky");
        if (x == 2 && n == 0)
          co_return -1;
        co_return x;
      },
      config);
  runner.retry_if([](const result& res) {
    return jobrunner::default_retry_if(res) || (res.ok() && *res.value == -1);
  });
  std::map<int, unsigned> attempts;
  std::map<int, task_status> status;
  runner.add_range(jobrunner::test::iota(0, 4)).on_task_complete([&](auto& res) {
    attempts[res.item] = res.attempts;
    status[res.item] = res.status;
  });
  auto s = runner.run();
  CHECK(attempts == std::map<int, unsigned>{{0, 2}, {1, 2}, {2, 2}, {3, 1}});
  for (auto& [item, st] : status)
    CHECK(st == task_status::succeeded);
  CHECK(s.retried == 3);
}

TEST_CASE("a predicate that throws means no retry", "[retry]")
{
  asio::io_context io;
  JobRunner<int, int> runner(
      io, [](int) -> int { throw std::runtime_error("x"); }, retrying(3, 1ms));
  runner.retry_if([](const auto&) -> bool { throw std::logic_error("predicate"); });
  unsigned attempts = 0;
  runner.add_range(std::vector<int>{1}).on_task_complete([&](auto& r) { attempts = r.attempts; });
  auto s = runner.run();
  CHECK(attempts == 1);
  CHECK(s.failed == 1);
}

TEST_CASE("a backoff does not hold the worker: it takes the next item meanwhile", "[retry]")
{
  // One worker. Item 0 fails its first attempt. Off the worker, item 1 runs
  // before item 0's second attempt (item 1 was queued first); with ordered
  // delivery the worker waits out the backoff itself, so item 0 runs again
  // first.
  for (bool ordered : {false, true})
  {
    CAPTURE(ordered);
    asio::io_context io;
    auto config = retrying(2, 20ms);
    config.workers = 1;
    config.ordered_delivery = ordered;
    std::vector<int> starts;
    JobRunner<int, int> runner(
        io,
        [&](int x) -> asio::awaitable<int> {
          starts.push_back(x);
          co_await sleep_for(1ms);
          if (x == 0 && starts.size() == 1)
            throw std::runtime_error("first attempt");
          co_return x;
        },
        config);
    std::vector<int> delivered;
    runner.add_range(jobrunner::test::iota(0, 5)).on_task_complete([&](auto& r) {
      CHECK(r.ok());
      delivered.push_back(r.item);
    });
    auto s = runner.run();
    CHECK(s.succeeded == 5);
    REQUIRE(starts.size() == 6);
    if (ordered)
    {
      CHECK(starts == std::vector<int>{0, 0, 1, 2, 3, 4});
      CHECK(delivered == std::vector<int>{0, 1, 2, 3, 4});
    }
    else
    {
      CHECK(starts[1] == 1);
      CHECK(std::count(starts.begin(), starts.end(), 0) == 2);
    }
  }
}

TEST_CASE("more failing items than max_waiting: the rest wait on their workers", "[retry]")
{
  asio::io_context io;
  auto config = retrying(3, 2ms);
  config.workers = 8;
  config.retry.max_waiting = 2;
  std::map<int, int> runs;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        co_await sleep_for(1ms);
        if (runs[x]++ < 2)
          throw std::runtime_error("fails twice");
        co_return x;
      },
      config);
  int calls = 0;
  runner.add_range(jobrunner::test::iota(0, 100)).on_task_complete([&](auto& r) {
    ++calls;
    CHECK(r.ok());
    CHECK(r.attempts == 3);
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(calls == 100);
  CHECK(out.summary.retried == 200);
}

TEST_CASE("a cancel ends waiting retries at once and each item keeps its last outcome",
          "[retry][cancel]")
{
  asio::io_context io;
  auto config = retrying(5, 10s);
  config.retry.max_backoff = 10s;
  config.retry.initial_backoff = 10s;
  config.workers = 4;
  config.retry.max_waiting = 1000;
  // The cancel comes once every item has finished its first attempt (not
  // after a fixed time: on a loaded machine under ASan the first 40 attempts
  // took longer than 100 ms, and the items not yet run were rightly
  // reported cancelled with no attempt).
  std::vector<bool> ran(40, false);
  int first_attempts = 0;
  std::function<void()> cancel_job;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        co_await sleep_for(1ms);
        const auto slot = static_cast<std::size_t>(x);
        if (!ran[slot])
        {
          ran[slot] = true;
          if (++first_attempts == 40)
            asio::post(io, [&] { cancel_job(); });
        }
        if (x % 2 == 0)
          throw std::runtime_error("even");
        co_return x;
      },
      config);
  cancel_job = [&] { runner.cancel(); };
  int calls = 0;
  runner.add_range(jobrunner::test::iota(0, 40)).on_task_complete([&](auto& r) {
    ++calls;
    if (r.item % 2 == 0)
    {
      // Every item has run once; an even one was then waiting for a retry
      // (its backoff is random in [0, 10 s), so a few may have run again)
      // or running one when the cancel came.
      CHECK(r.status != task_status::succeeded);
      CHECK(r.attempts >= 1);
    }
    else
      CHECK(r.ok());
  });
  outcome out;
  start(runner, out);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io));
  CHECK(std::chrono::steady_clock::now() - t0 < 5s); // not the 10 s backoff
  CHECK(out.summary.status == jobrunner::job_status::cancelled);
  CHECK(calls == 40);
  CHECK(out.summary.submitted == 40);
  CHECK(out.summary.failed >= 1);
  CHECK(out.summary.succeeded + out.summary.failed + out.summary.cancelled == 40);
}

TEST_CASE("the backoff grows exponentially up to max_backoff, with full jitter", "[retry]")
{
  JobConfig::Retry policy;
  policy.initial_backoff = 100ms;
  policy.max_backoff = 1s;
  policy.multiplier = 2;
  for (unsigned attempts = 1; attempts <= 8; ++attempts)
  {
    const auto cap = std::min<std::chrono::nanoseconds>(1s, 100ms * (1 << (attempts - 1)));
    std::chrono::nanoseconds lo = cap, hi{0};
    for (int k = 0; k < 2000; ++k)
    {
      const auto d =
          jobrunner::detail::policy::backoff(policy, attempts, jobrunner::detail::policy::jitter());
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      REQUIRE(d >= 0ns);
      REQUIRE(d <= cap);
    }
    // Full jitter: the draws spread over [0, cap).
    CHECK(lo < cap / 10);
    CHECK(hi > cap * 9 / 10);
  }
}

TEST_CASE("invalid retry settings are rejected at construction", "[retry][config]")
{
  asio::io_context io;
  auto make = [&](JobConfig c) {
    JobRunner<int, int> r(
        io, [](int x) { return x; }, c);
  };
  JobConfig c;
  c.retry.max_attempts = 0;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c = JobConfig{};
  c.retry.multiplier = 0.5;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c = JobConfig{};
  c.retry.initial_backoff = -1ms;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
}
