// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// JobRunner on a single-threaded io_context: the invariants first (exactly
// one task-complete per item, job-complete once and last, nothing left
// running), then the function kinds, errors, cancellation, tokens and memory.
#include <jobrunner/detail/task_stopwatch.hpp>
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobrunner::JobConfig;
using jobrunner::JobRunner;
using jobrunner::JobSummary;
using jobrunner::task_status;
using jobrunner::test::outcome;
using jobrunner::test::run_to_completion;
using jobrunner::test::sleep_for;
using jobrunner::test::start;

namespace {

// Yields to the scheduler on some items so that workers interleave.
asio::awaitable<long> double_it(long x)
{
  if (x % 3 == 0)
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return x * 2;
}

} // namespace

TEST_CASE("every submitted item gets exactly one task-complete call", "[runner][invariant]")
{
  asio::io_context io;
  const long n = 20000;
  JobConfig config;
  config.workers = 7;
  config.work_queue_capacity = 5;
  config.result_queue_capacity = 3;
  JobRunner<long, long> runner(io, double_it, config);
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  long sum = 0;
  runner.add_range(jobrunner::test::iota(0L, n)).on_task_complete([&](auto& r) {
    REQUIRE(r.ok());
    ++seen[static_cast<std::size_t>(r.item)];
    sum += *r.value;
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  REQUIRE(out.done());
  CHECK_FALSE(out.ec);
  for (int count : seen)
    REQUIRE(count == 1);
  CHECK(sum == n * (n - 1));
  CHECK(out.summary.status == jobrunner::job_status::completed);
  CHECK(out.summary.submitted == static_cast<std::uint64_t>(n));
  CHECK(out.summary.succeeded == static_cast<std::uint64_t>(n));
  CHECK(out.summary.failed == 0);
  CHECK(out.summary.cancelled == 0);
  CHECK(out.summary.latency.count == static_cast<std::uint64_t>(n));
}

TEST_CASE("job-complete runs exactly once, after every task-complete", "[runner][invariant]")
{
  asio::io_context io;
  JobRunner<int, int> runner(io, [](int x) { return x; });
  std::vector<std::string> events;
  int job_calls = 0;
  runner.add_range(jobrunner::test::iota(0, 50))
      .add_range(jobrunner::test::iota(50, 100))
      .on_task_complete([&](auto&) { events.push_back("task"); })
      .on_job_complete([&](const JobSummary& s) {
        ++job_calls;
        events.push_back("job");
        CHECK(s.succeeded == 100);
      });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(job_calls == 1);
  REQUIRE(events.size() == 101);
  CHECK(events.back() == "job");
  CHECK(out.done());
}

TEST_CASE("the io_context runs out of work when the job ends", "[runner][invariant]")
{
  asio::io_context io;
  JobRunner<int, void> runner(io, [](int) -> asio::awaitable<void> { co_await sleep_for(1ms); });
  runner.add_range(jobrunner::test::iota(0, 200));
  outcome out;
  start(runner, out);
  // run_for returns early only if nothing (no coroutine, no timer) is left.
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io, 30s));
  CHECK(std::chrono::steady_clock::now() - t0 < 25s);
  CHECK(out.done());
  CHECK(out.summary.succeeded == 200);
}

TEST_CASE("producers start before the workers, so the first item is submitted at once",
          "[runner][input]")
{
  asio::io_context io;
  JobConfig config;
  config.work_queue_capacity = 0; // a rendezvous: try_submit succeeds only if a worker waits
  JobRunner<int, int> runner(
      io, [](int x) { return x; }, config);
  int first_try = -1;
  runner.add_producer([&](auto& out) -> asio::awaitable<void> {
    int item = 0;
    first_try = out.try_submit(item) ? 1 : 0;
    if (first_try == 0)
      co_await out.submit(item);
    for (int i = 1; i < 100; ++i)
      co_await out.submit(i);
  });
  auto s = runner.run();
  // Its first statement ran before any worker had started (they all would
  // have been waiting for an item): no coroutine start came before it.
  CHECK(first_try == 0);
  CHECK(s.succeeded == 100);
}

TEST_CASE("a job with no producer or an empty range completes with no item", "[runner][input]")
{
  asio::io_context io;
  JobRunner<int, int> none(io, [](int x) { return x; });
  JobRunner<int, int> empty(io, [](int x) { return x; });
  empty.add_range(std::vector<int>{});
  int calls = 0;
  none.on_task_complete([&](auto&) { ++calls; });
  auto a = none.run();
  auto b = empty.run();
  CHECK(calls == 0);
  CHECK(a.submitted == 0);
  CHECK(b.submitted == 0);
  CHECK(a.status == jobrunner::job_status::completed);
}

TEST_CASE("functions: synchronous, void, and move-only items and results", "[runner][function]")
{
  asio::io_context io;
  SECTION("a synchronous function runs inline in the worker")
  {
    JobRunner<int, std::string> runner(io, [](const int& x) { return std::to_string(x); });
    std::vector<std::string> got;
    runner.add_range(jobrunner::test::iota(0, 10)).on_task_complete([&](auto& r) {
      got.push_back(*r.value);
    });
    auto s = runner.run();
    CHECK(s.succeeded == 10);
    CHECK(got.size() == 10);
  }
  SECTION("a void function reports success with no value")
  {
    int ran = 0;
    JobRunner<int, void> runner(io, [&](int) { ++ran; });
    runner.add_range(jobrunner::test::iota(0, 5)).on_task_complete([](auto& r) { CHECK(r.ok()); });
    CHECK(runner.run().succeeded == 5);
    CHECK(ran == 5);
  }
  SECTION("move-only items and results travel through both channels")
  {
    using item = std::unique_ptr<int>;
    JobRunner<item, std::unique_ptr<long>> runner(
        io, [](item& p) -> asio::awaitable<std::unique_ptr<long>> {
          co_return std::make_unique<long>(*p * 10L);
        });
    long sum = 0;
    runner.add_producer([](auto& out) -> asio::awaitable<void> {
      for (int i = 1; i <= 4; ++i)
      {
        auto p = std::make_unique<int>(i);
        co_await out.submit(std::move(p));
      }
    });
    runner.on_task_complete([&](auto& r) {
      std::unique_ptr<int> mine = std::move(r.item); // the callback may move out
      sum += **r.value + *mine;
    });
    CHECK(runner.run().succeeded == 4);
    CHECK(sum == 110);
  }
}

TEST_CASE("invalid configuration is rejected at construction", "[runner][config]")
{
  asio::io_context io;
  JobConfig zero;
  zero.workers = 0;
  CHECK_THROWS_AS((JobRunner<int, int>(
                      io, [](int x) { return x; }, zero)),
                  std::invalid_argument);
  JobConfig huge;
  huge.workers = JobConfig::max_workers + 1;
  CHECK_THROWS_AS((JobRunner<int, int>(
                      io, [](int x) { return x; }, huge)),
                  std::invalid_argument);
  int (*null_fn)(int&) = nullptr;
  CHECK_THROWS_AS((JobRunner<int, int>(io, null_fn)), std::invalid_argument);
  std::function<asio::awaitable<int>(int&)> empty_fn;
  CHECK_THROWS_AS((JobRunner<int, int>(io, empty_fn)), std::invalid_argument);
  JobConfig rendezvous;
  rendezvous.work_queue_capacity = 0;
  rendezvous.result_queue_capacity = 0;
  JobRunner<int, int> ok(
      io, [](int x) { return x; }, rendezvous);
  ok.add_range(jobrunner::test::iota(0, 100));
  CHECK(ok.run().succeeded == 100);
}

TEST_CASE("a throwing task is a failed result and the job goes on", "[runner][errors]")
{
  asio::io_context io;
  JobRunner<int, int> runner(io, [](int x) -> asio::awaitable<int> {
    if (x % 10 == 0)
      throw std::runtime_error("boom " + std::to_string(x));
    co_return x;
  });
  int failed = 0;
  runner.add_range(jobrunner::test::iota(0, 100)).on_task_complete([&](auto& r) {
    if (r.status == task_status::failed)
    {
      ++failed;
      CHECK_FALSE(r.value);
      CHECK_THROWS_AS(std::rethrow_exception(r.error), std::runtime_error);
    }
  });
  auto s = runner.run();
  CHECK(failed == 10);
  CHECK(s.failed == 10);
  CHECK(s.succeeded == 90);
  CHECK(s.status == jobrunner::job_status::completed);
}

TEST_CASE("a throwing producer stops only itself and is reported", "[runner][errors]")
{
  asio::io_context io;
  JobRunner<int, int> runner(io, [](int x) { return x; });
  int results = 0;
  runner.add_producer([](auto& out) -> asio::awaitable<void> {
    co_await out.submit(1);
    co_await out.submit(2);
    throw std::runtime_error("producer failed");
  });
  runner.add_range(jobrunner::test::iota(100, 200)).on_task_complete([&](auto&) { ++results; });
  auto s = runner.run();
  CHECK(results == 102);
  CHECK(s.submitted == 102);
  CHECK(s.producer_errors == 1);
  REQUIRE(s.first_producer_error);
  CHECK_THROWS_AS(std::rethrow_exception(s.first_producer_error), std::runtime_error);
  CHECK(s.status == jobrunner::job_status::completed);
}

TEST_CASE("a throwing task-complete callback is counted and later results still arrive",
          "[runner][errors]")
{
  asio::io_context io;
  JobRunner<int, int> runner(io, [](int x) { return x; });
  int calls = 0;
  runner.add_range(jobrunner::test::iota(0, 30)).on_task_complete([&](auto& r) {
    ++calls;
    if (r.item % 3 == 0)
      throw std::logic_error("callback failed");
  });
  bool job_ran = false;
  runner.on_job_complete([&](const JobSummary&) { job_ran = true; });
  auto s = runner.run();
  CHECK(calls == 30);
  CHECK(s.callback_errors == 10);
  CHECK(s.first_callback_error);
  CHECK(job_ran);
}

TEST_CASE("a throwing job-complete callback still runs once and is reported", "[runner][errors]")
{
  asio::io_context io;
  JobRunner<int, int> runner(io, [](int x) { return x; });
  int calls = 0;
  runner.add_range(jobrunner::test::iota(0, 3)).on_job_complete([&](const JobSummary&) {
    ++calls;
    throw std::runtime_error("job callback failed");
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(calls == 1);
  CHECK(out.ec == jobrunner::errc::job_complete_callback_failed);
  CHECK(out.summary.succeeded == 3);
  CHECK(out.summary.status == jobrunner::job_status::completed);
  REQUIRE(out.summary.job_callback_error);
  CHECK_THROWS_WITH(std::rethrow_exception(out.summary.job_callback_error), "job callback failed");
  CHECK_THROWS_AS(runner.run(), boost::system::system_error); // already started
}

TEST_CASE("a throwing job-complete callback wins over cancelled and aborted, its exception kept",
          "[runner][errors]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 2;
  config.failure_budget.max_failures = 1;
  // Item 5 fails: the failure budget aborts the job (when the job is not
  // cancelled before it starts).
  JobRunner<int, int> runner(
      io,
      [](int x) {
        if (x == 5)
          throw std::runtime_error("task failed");
        return x;
      },
      config);
  int calls = 0;
  runner.add_range(jobrunner::test::iota(0, 1000)).on_job_complete([&](const JobSummary&) {
    ++calls;
    throw std::runtime_error("job callback failed");
  });
  const bool cancel = GENERATE(true, false);
  CAPTURE(cancel);
  if (cancel)
    runner.cancel();
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(calls == 1);
  // The callback's failure is the completion error; how the job ended is the
  // summary's status; the callback's exception is the summary's.
  CHECK(out.ec == jobrunner::errc::job_complete_callback_failed);
  CHECK(out.summary.status
        == (cancel ? jobrunner::job_status::cancelled : jobrunner::job_status::aborted));
  REQUIRE(out.summary.job_callback_error);
  CHECK_THROWS_WITH(std::rethrow_exception(out.summary.job_callback_error), "job callback failed");
}

TEST_CASE("cancel() mid-job: queued items cancelled, in-flight tasks aborted, one call each",
          "[runner][cancel]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 4;
  config.work_queue_capacity = 8;
  // Items 0..3 block on a long timer; later ones are fast.
  JobRunner<long, long> runner(
      io,
      [](long x) -> asio::awaitable<long> {
        co_await sleep_for(x < 4 ? 10s : 1ms);
        co_return x;
      },
      config);
  std::vector<int> seen(1000000, 0);
  int aborted_in_flight = 0;
  runner.add_range(jobrunner::test::iota(0L, 1000000L)).on_task_complete([&](auto& r) {
    ++seen[static_cast<std::size_t>(r.item)];
    if (r.status == task_status::cancelled && r.error)
    {
      try
      {
        std::rethrow_exception(r.error);
      }
      catch (const boost::system::system_error& e)
      {
        if (e.code() == asio::error::operation_aborted)
          ++aborted_in_flight;
      }
    }
  });
  asio::steady_timer timer(io, 50ms);
  timer.async_wait([&](auto) { runner.cancel(); });
  outcome out;
  start(runner, out);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io));
  CHECK(std::chrono::steady_clock::now() - t0 < 5s); // the 10 s tasks were interrupted
  REQUIRE(out.done());
  CHECK(out.ec == asio::error::operation_aborted);
  const auto& s = out.summary;
  CHECK(s.status == jobrunner::job_status::cancelled);
  CHECK(aborted_in_flight == 4);
  CHECK(s.cancelled >= 4);
  CHECK(s.submitted == s.succeeded + s.failed + s.cancelled);
  std::uint64_t calls = 0;
  for (int c : seen)
  {
    REQUIRE(c <= 1);
    calls += static_cast<std::uint64_t>(c);
  }
  CHECK(calls == s.submitted);
  CHECK(s.submitted < 1000000);
}

TEST_CASE("a task that installs its own cancellation state: still cancelled, the waits still "
          "shielded, one call each",
          "[runner][cancel]")
{
  // The worker raises its shield with a store into a flag its cancellation
  // filter reads (coro_cancellation.hpp); a task that resets the state drops
  // that filter, and the worker must then reset it again before its next
  // wait. The producer is paced, so workers are often waiting for items
  // when the job is cancelled.
  asio::io_context io;
  JobConfig config;
  config.workers = 4;
  config.work_queue_capacity = 2;
  JobRunner<long, long> runner(
      io,
      [](long x) -> asio::awaitable<long> {
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
        co_await sleep_for(x % 8 == 7 ? 10s : 100us);
        co_return x;
      },
      config);
  std::vector<int> seen(100000, 0);
  int successes = 0;
  auto item7 = task_status::succeeded; // until its result says otherwise
  runner
      .add_producer([](auto& out) -> asio::awaitable<void> {
        for (long i = 0; i < 100000; ++i)
        {
          co_await out.submit(i);
          if (i % 2 == 1)
            co_await sleep_for(200us);
        }
      })
      .on_task_complete([&](auto& r) {
        ++seen[static_cast<std::size_t>(r.item)];
        if (r.item == 7)
          item7 = r.status;
        // The cancel comes after the 8th success (an event, not a fixed
        // time: a loaded machine may not reach it within 100 ms). Item 7
        // (10 s) is in flight by then: items are taken in order.
        if (r.ok() && ++successes == 8)
          asio::post(io, [&] { runner.cancel(); });
      });
  outcome out;
  start(runner, out);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io));
  CHECK(std::chrono::steady_clock::now() - t0 < 5s); // the 10 s tasks were interrupted
  REQUIRE(out.done());
  const auto& s = out.summary;
  CHECK(s.status == jobrunner::job_status::cancelled);
  CHECK(s.succeeded >= 8);                // the cancel came at the 8th success
  CHECK(item7 == task_status::cancelled); // a 10 s task interrupted by the cancel
  CHECK(s.cancelled >= 1);
  CHECK(s.submitted == s.succeeded + s.failed + s.cancelled);
  std::uint64_t calls = 0;
  for (int c : seen)
  {
    REQUIRE(c <= 1);
    calls += static_cast<std::uint64_t>(c);
  }
  CHECK(calls == s.submitted);
}

TEST_CASE("cancelling async_run through its cancellation slot cancels the job", "[runner][cancel]")
{
  asio::io_context io;
  JobRunner<int, int> runner(io, [](int x) -> asio::awaitable<int> {
    co_await sleep_for(5ms);
    co_return x;
  });
  std::uint64_t calls = 0;
  runner.add_range(jobrunner::test::iota(0, 1000000)).on_task_complete([&](auto&) { ++calls; });
  asio::cancellation_signal signal;
  outcome out;
  runner.async_run(
      asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec, JobSummary s) {
        ++out.calls;
        out.ec = ec;
        out.summary = std::move(s);
      }));
  asio::steady_timer timer(io, 30ms);
  timer.async_wait([&](auto) { signal.emit(asio::cancellation_type::terminal); });
  REQUIRE(run_to_completion(io));
  REQUIRE(out.done());
  CHECK(out.ec == asio::error::operation_aborted);
  CHECK(out.summary.status == jobrunner::job_status::cancelled);
  CHECK(calls == out.summary.submitted);
  CHECK(out.summary.submitted == out.summary.succeeded + out.summary.cancelled);
}

TEST_CASE("cancel before the start ends the job at once, after the end it changes nothing",
          "[runner][cancel]")
{
  asio::io_context io;
  int ran = 0;
  JobRunner<int, int> before(io, [&](int x) {
    ++ran;
    return x;
  });
  before.add_range(jobrunner::test::iota(0, 100));
  before.cancel();
  auto s = before.run();
  CHECK(ran == 0);
  CHECK(s.submitted == 0);
  CHECK(s.status == jobrunner::job_status::cancelled);

  JobRunner<int, int> after(io, [](int x) { return x; });
  after.add_range(jobrunner::test::iota(0, 10));
  auto done = after.run();
  after.cancel();
  after.cancel();
  CHECK(done.status == jobrunner::job_status::completed);
  CHECK(after.stats().succeeded == 10);
}

TEST_CASE("a user producer sees the cancellation as operation_aborted from submit",
          "[runner][cancel]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.work_queue_capacity = 1;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await sleep_for(1ms);
        co_return x;
      },
      config);
  bool producer_saw_abort = false;
  runner.add_producer([&](auto& out) -> asio::awaitable<void> {
    try
    {
      for (int i = 0;; ++i)
        co_await out.submit(i);
    }
    catch (const boost::system::system_error& e)
    {
      producer_saw_abort = e.code() == asio::error::operation_aborted;
      throw;
    }
  });
  asio::steady_timer timer(io, 20ms);
  timer.async_wait([&](auto) { runner.cancel(); });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(producer_saw_abort);
  CHECK(out.summary.producer_errors == 0); // stopping on cancellation is not an error
  CHECK(out.summary.submitted == out.summary.succeeded + out.summary.cancelled);
}

TEST_CASE("a runner runs one job: a second async_run completes with already_started",
          "[runner][misuse]")
{
  asio::io_context io;
  JobRunner<int, int> runner(io, [](int x) { return x; });
  runner.add_range(jobrunner::test::iota(0, 10));
  outcome first, second;
  start(runner, first);
  start(runner, second);
  REQUIRE(run_to_completion(io));
  CHECK_FALSE(first.ec);
  CHECK(second.ec == jobrunner::errc::already_started);
  CHECK(first.summary.succeeded == 10);
  CHECK_THROWS_AS(runner.add_range(jobrunner::test::iota(0, 1)), std::logic_error);
  CHECK_THROWS_AS(runner.on_task_complete([](auto&) {}), std::logic_error);
}

TEST_CASE("run() needs an io_context and one thread with single_threaded", "[runner][misuse]")
{
  asio::io_context io;
  JobRunner<int, int> on_executor(io.get_executor(), [](int x) { return x; });
  CHECK_THROWS_AS(on_executor.run(), std::logic_error);
  JobRunner<int, int> on_io(io, [](int x) { return x; });
  CHECK_THROWS_AS(on_io.run(2), std::invalid_argument);
}

TEST_CASE("destroying the runner while its job runs cancels it and the handler still runs",
          "[runner][misuse]")
{
  asio::io_context io;
  std::uint64_t calls = 0;
  outcome out;
  {
    auto runner = std::make_unique<JobRunner<int, int>>(io, [](int x) -> asio::awaitable<int> {
      co_await sleep_for(2ms);
      co_return x;
    });
    runner->add_range(jobrunner::test::iota(0, 1000000)).on_task_complete([&](auto&) { ++calls; });
    start(*runner, out);
    io.run_for(20ms);
  }
  REQUIRE(run_to_completion(io));
  REQUIRE(out.done());
  CHECK(out.summary.status == jobrunner::job_status::cancelled);
  CHECK(calls == out.summary.submitted);
}

TEST_CASE("async_run works with use_awaitable, use_future and deferred", "[runner][token]")
{
  SECTION("use_awaitable, errors as a tuple")
  {
    asio::io_context io;
    JobRunner<int, int> runner(io, [](int x) { return x + 1; });
    runner.add_range(jobrunner::test::iota(0, 10));
    std::uint64_t got = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto [ec, s] = co_await runner.async_run(asio::as_tuple(asio::use_awaitable));
          CHECK_FALSE(ec);
          got = s.succeeded;
        },
        asio::detached);
    REQUIRE(run_to_completion(io));
    CHECK(got == 10);
  }
  SECTION("use_future, with the io_context on another thread")
  {
    asio::io_context io;
    JobRunner<int, int> runner(io, [](int x) { return x + 1; });
    runner.add_range(jobrunner::test::iota(0, 10));
    std::future<JobSummary> f = runner.async_run(asio::use_future);
    std::thread t([&] { io.run(); });
    auto s = f.get();
    t.join();
    CHECK(s.succeeded == 10);
  }
  SECTION("a handler bound to a strand runs on that strand")
  {
    asio::io_context io;
    auto strand = asio::make_strand(io);
    JobRunner<int, int> runner(io, [](int x) { return x; });
    runner.add_range(std::vector<int>{1, 2, 3});
    bool on_strand = false;
    runner.async_run(asio::bind_executor(strand, [&](boost::system::error_code, JobSummary) {
      on_strand = strand.running_in_this_thread();
    }));
    REQUIRE(run_to_completion(io));
    CHECK(on_strand);
  }
  SECTION("deferred: nothing starts until the operation is invoked")
  {
    asio::io_context io;
    int ran = 0;
    JobRunner<int, int> runner(io, [&](int x) {
      ++ran;
      return x;
    });
    runner.add_range(jobrunner::test::iota(0, 10));
    auto op = runner.async_run(asio::deferred);
    io.run();
    CHECK(ran == 0);
    bool done = false;
    std::move(op)(
        [&](boost::system::error_code ec, JobSummary s) { done = !ec && s.succeeded == 10; });
    REQUIRE(run_to_completion(io));
    CHECK(done);
    CHECK(ran == 10);
  }
}

TEST_CASE("stats() tracks the job and agrees with the summary at the end", "[runner][stats]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 2;
  JobRunner<int, int>* self = nullptr;
  JobRunner<int, int> runner(
      io, [](int x) { return x; }, config);
  self = &runner;
  std::uint64_t handled = 0;
  runner.add_range(jobrunner::test::iota(0, 500)).on_task_complete([&](auto&) {
    ++handled;
    auto st = self->stats();
    // The result being handled is already counted as done.
    CHECK(st.done() == handled);
    CHECK(st.submitted >= st.done());
    CHECK(st.submitted == st.queued + st.in_flight + st.done());
  });
  auto s = runner.run();
  auto st = runner.stats();
  CHECK(st.succeeded == s.succeeded);
  CHECK(st.submitted == s.submitted);
  CHECK(st.queued == 0);
  CHECK(st.in_flight == 0);
  CHECK(s.max_queue_depth >= 1);
  CHECK(s.max_queue_depth <= config.work_queue_capacity + config.workers);
}

TEST_CASE("memory stays bounded by the capacities whatever the number of items", "[runner][memory]")
{
  using jobrunner::test::counted;
  counted::reset();
  asio::io_context io;
  JobConfig config;
  config.workers = 10;
  config.work_queue_capacity = 20;
  config.result_queue_capacity = 30;
  JobRunner<counted, long> runner(
      io,
      [](counted& c) -> asio::awaitable<long> {
        if (c.value % 7 == 0)
          co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        co_return c.value;
      },
      config);
  const long n = 1000000;
  long sum = 0;
  runner.add_range(jobrunner::test::mapped(0L, n, [](long v) { return counted(v); }))
      .on_task_complete([&](auto& r) { sum += *r.value; });
  auto s = runner.run();
  CHECK(s.succeeded == static_cast<std::uint64_t>(n));
  CHECK(sum == n * (n - 1) / 2);
  // JobConfig::live_item_bound; memory_test drives a job to its edge.
  const long bound = static_cast<long>(config.live_item_bound(1));
  INFO("peak live items: " << counted::peak_values.load()
                           << ", objects with moved-from shells: " << counted::peak_objects.load());
  CHECK(counted::peak_values.load() <= bound);
  CHECK(counted::peak_objects.load() <= 4 * bound); // shells: a few per coroutine, not per item
  CHECK(counted::values.load() == 0);
  CHECK(counted::objects.load() == 0);
}

TEST_CASE("memory stays bounded with retries waiting aside and with a reorder window",
          "[runner][memory][retry][ordered]")
{
  using jobrunner::test::counted;
  for (bool ordered : {false, true})
  {
    CAPTURE(ordered);
    counted::reset();
    asio::io_context io;
    JobConfig config;
    config.workers = 10;
    config.work_queue_capacity = 20;
    config.result_queue_capacity = 30;
    config.retry.max_attempts = 2;
    config.retry.initial_backoff = std::chrono::microseconds(200);
    config.retry.max_waiting = 15;
    config.ordered_delivery = ordered;
    config.reorder_window = 25;
    // Every third item fails its first attempt; items ending in 9 are slow.
    JobRunner<counted, long> runner(
        io,
        [](counted& c) -> asio::awaitable<long> {
          if (c.value % 10 == 9)
          {
            asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::microseconds(50));
            co_await t.async_wait(asio::use_awaitable);
          }
          if (c.value % 3 == 0 && c.value >= 0)
          {
            c.value = -c.value - 1; // remembers the first attempt
            throw std::runtime_error("first attempt");
          }
          co_return c.value < 0 ? -c.value - 1 : c.value;
        },
        config);
    const long n = 100000;
    long sum = 0;
    runner.add_range(jobrunner::test::mapped(0L, n, [](long v) { return counted(v); }))
        .on_task_complete([&](auto& r) { sum += *r.value; });
    auto s = runner.run();
    CHECK(s.succeeded == static_cast<std::uint64_t>(n));
    CHECK(sum == n * (n - 1) / 2);
    const long bound = static_cast<long>(config.live_item_bound(1));
    CHECK(bound
          == static_cast<long>(1 + config.work_queue_capacity + config.workers
                               + config.result_queue_capacity + 1
                               + (ordered ? config.reorder_window : config.retry.max_waiting)));
    INFO("peak live items: " << counted::peak_values.load() << ", objects with moved-from shells: "
                             << counted::peak_objects.load());
    CHECK(counted::peak_values.load() <= bound);
    CHECK(counted::peak_objects.load() <= 4 * bound);
    CHECK(counted::values.load() == 0);
    CHECK(counted::objects.load() == 0);
  }
}

TEST_CASE("misuse: configuring a started runner throws, a moved-from result is delivered as is",
          "[runner][misuse]")
{
  asio::io_context io;
  JobRunner<int, std::string> runner(
      io,
      [](int x) {
        std::string s = "item " + std::to_string(x);
        std::string taken = std::move(s);
        return s; // moved from: the runner delivers whatever the function returned
      },
      JobConfig{});
  std::vector<std::string> values;
  runner.add_range(std::vector<int>{1, 2}).on_task_complete([&](auto& r) {
    values.push_back(*r.value);
  });
  outcome out;
  start(runner, out);
  CHECK_THROWS_AS(runner.add_producer([](auto&) -> asio::awaitable<void> { co_return; }),
                  std::logic_error);
  CHECK_THROWS_AS(runner.add_range(std::vector<int>{3}), std::logic_error);
  CHECK_THROWS_AS(runner.on_task_complete([](auto&) {}), std::logic_error);
  CHECK_THROWS_AS(runner.on_job_complete([](const auto&) {}), std::logic_error);
  CHECK_THROWS_AS(runner.retry_if([](const auto&) { return false; }), std::logic_error);
  REQUIRE(run_to_completion(io));
  CHECK(out.summary.succeeded == 2);
  CHECK(values.size() == 2);
}

TEST_CASE("a range producer reads its input lazily", "[runner][input]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 3;
  config.work_queue_capacity = 4;
  config.result_queue_capacity = 4;
  long generated = 0;
  long handled = 0;
  long max_ahead = 0;
  auto input = jobrunner::test::mapped(0L, 100000L, [&](long v) {
    ++generated;
    return v;
  });
  JobRunner<long, long> runner(
      io, [](long x) { return x; }, config);
  runner.add_range(input).on_task_complete([&](auto&) {
    ++handled;
    max_ahead = std::max(max_ahead, generated - handled);
  });
  runner.run();
  CHECK(handled == 100000);
  CHECK(max_ahead <= static_cast<long>(config.live_item_bound(1)));
}

TEST_CASE("add_range takes a container by reference or by value, or an iterator pair",
          "[runner][input]")
{
  asio::io_context io;
  std::vector<int> kept{1, 2, 3};
  std::vector<std::string> words{"a", "bb", "ccc"};
  JobRunner<std::string, std::size_t> runner(io, [](const std::string& s) { return s.size(); });
  std::size_t total = 0;
  runner
      .add_range(words)                            // referenced
      .add_range(std::vector<std::string>{"dddd"}) // moved in
      .add_range(words.begin(), words.begin() + 1) // iterator pair
      .on_task_complete([&](auto& r) { total += *r.value; });
  auto s = runner.run();
  CHECK(s.succeeded == 5);
  CHECK(total == 1 + 2 + 3 + 4 + 1);
  CHECK(kept.size() == 3);
}

TEST_CASE("task durations are measured and summarised", "[runner][timing]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 4;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await sleep_for(std::chrono::milliseconds(x));
        co_return x;
      },
      config);
  std::vector<std::chrono::nanoseconds> durations;
  runner.add_range(std::vector<int>{20, 20, 20, 40}).on_task_complete([&](auto& r) {
    durations.push_back(r.duration);
  });
  auto s = runner.run();
  REQUIRE(durations.size() == 4);
  for (auto d : durations)
  {
    CHECK(d >= 19ms); // a timer never fires early; the bound above is loose on purpose
    CHECK(d < 5s);
  }
  CHECK(s.latency.count == 4);
  CHECK(s.latency.max >= 39ms);
  CHECK(s.latency.p50 >= 19ms);
  CHECK(s.latency.p50 <= s.latency.p90);
  CHECK(s.latency.p99 <= s.latency.max);
  CHECK(s.elapsed >= 39ms);
  CHECK(s.items_per_second > 0);
}

TEST_CASE("measure_durations off: no duration and no latency summary, unless a limit needs them",
          "[runner][timing]")
{
  for (const bool adaptive : {false, true})
  {
    INFO("gradient limit " << adaptive);
    asio::io_context io;
    JobConfig config;
    config.workers = 4;
    config.measure_durations = false;
    config.adaptive_concurrency.enabled = adaptive;
    config.adaptive_concurrency.algorithm =
        JobConfig::AdaptiveConcurrency::algorithm_kind::gradient; // needs the durations
    JobRunner<int, int> runner(
        io,
        [](int x) -> asio::awaitable<int> {
          co_await sleep_for(std::chrono::milliseconds(x));
          if (x == 5)
            throw std::runtime_error("five");
          co_return x;
        },
        config);
    std::vector<std::chrono::nanoseconds> durations;
    runner.add_range(std::vector<int>{5, 10, 10, 10}).on_task_complete([&](auto& r) {
      durations.push_back(r.duration);
    });
    auto s = runner.run();
    CHECK(s.succeeded == 3);
    CHECK(s.failed == 1);
    REQUIRE(durations.size() == 4);
    for (auto d : durations)
      if (adaptive) // the limit needs the durations: measured anyway
        CHECK(d >= 4ms);
      else
        CHECK(d == 0ns);
    CHECK(s.latency.count == (adaptive ? 4u : 0u));
    CHECK(s.elapsed >= 10ms); // the job itself is still timed
  }
}

TEST_CASE("a stopwatch switched off reads no clock and measures nothing", "[runner][timing]")
{
  jobrunner::detail::task_stopwatch off(false);
  off.start();
  CHECK(off.stop() == 0ns);
  off.invalidate();
  off.start();
  CHECK(off.stop() == 0ns);
  jobrunner::detail::task_stopwatch on(true);
  on.start();
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < 2ms)
  {}
  CHECK(on.stop() >= 1ms);
}

namespace {
// An item with no default constructor and no copy: the channels must cope.
struct no_default
{
  explicit no_default(int v) : value(v) {}
  no_default(no_default&&) = default;
  no_default& operator=(no_default&&) = default;
  no_default(const no_default&) = delete;
  int value;
};
} // namespace

TEST_CASE("items need neither a default constructor nor a copy", "[runner][function]")
{
  asio::io_context io;
  JobRunner<no_default, int> runner(io, [](no_default& d) { return d.value * 3; });
  runner.add_producer([](auto& out) -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i)
    {
      no_default item(i);
      co_await out.submit(std::move(item));
    }
  });
  int sum = 0;
  runner.on_task_complete([&](auto& r) { sum += *r.value + r.item.value; });
  CHECK(runner.run().succeeded == 5);
  CHECK(sum == 4 * (0 + 1 + 2 + 3 + 4));
}

namespace {
// Move-constructible only: no move (or copy) assignment, as the README allows.
struct construct_only
{
  explicit construct_only(int v) : value(v) {}
  construct_only(construct_only&&) noexcept = default;
  construct_only& operator=(construct_only&&) = delete;
  construct_only(const construct_only&) = delete;
  construct_only& operator=(const construct_only&) = delete;
  int value;
};
} // namespace

TEST_CASE(
    "items and results that are only move-constructible work with retries and ordered delivery",
    "[runner][function]")
{
  for (int mode = 0; mode < 3; ++mode)
  {
    CAPTURE(mode); // 0: plain, 1: retries waiting aside, 2: ordered delivery with retries
    asio::io_context io;
    JobConfig config;
    config.workers = 3;
    config.work_queue_capacity = 2;
    config.result_queue_capacity = 1;
    if (mode >= 1)
    {
      config.retry.max_attempts = 2;
      config.retry.initial_backoff = std::chrono::microseconds(10);
    }
    config.ordered_delivery = mode == 2;
    JobRunner<construct_only, construct_only> runner(
        io,
        [](construct_only& c) -> asio::awaitable<construct_only> {
          co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
          if (c.value % 4 == 0 && c.value >= 0)
          {
            c.value = -c.value - 1; // the retry succeeds
            throw std::runtime_error("first attempt");
          }
          co_return construct_only(c.value < 0 ? -c.value - 1 : c.value);
        },
        config);
    runner.add_producer([](auto& out) -> asio::awaitable<void> {
      for (int i = 0; i < 40; ++i)
      {
        construct_only item(i);
        co_await out.submit(std::move(item));
      }
    });
    int sum = 0;
    int succeeded = 0;
    runner.on_task_complete([&](auto& r) {
      if (r.ok())
      {
        ++succeeded;
        sum += r.value->value;
      }
    });
    auto s = runner.run();
    CHECK(s.submitted == 40);
    if (mode == 0)
    {
      CHECK(succeeded == 30);
      CHECK(s.failed == 10);
    }
    else
    {
      CHECK(succeeded == 40);
      CHECK(sum == 39 * 40 / 2);
    }
  }
}

// A stopped io_context destroyed mid-job must destroy every suspended
// coroutine of the job, as it does for Asio's own operations: the result
// handler waiting on the result queue, workers waiting to hand a result on,
// the controller waiting for the end. Anything left would keep the job (and
// what the function captured) alive for ever.
TEST_CASE("an io_context stopped and destroyed mid-job frees every coroutine of the job",
          "[runner][lifetime]")
{
  for (std::size_t capacity : {std::size_t{0}, std::size_t{1}, std::size_t{8}})
  {
    CAPTURE(capacity);
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> weak = token;
    std::size_t delivered = 0;
    {
      asio::io_context io;
      {
        JobConfig config;
        config.workers = 4;
        config.result_queue_capacity = capacity;
        JobRunner<int, int> runner(
            io, [t = token](int& x) -> asio::awaitable<int> { co_return x + *t; }, config);
        runner.add_range(std::vector<int>(200, 1));
        runner.on_task_complete([&](auto&) {
          if (++delivered == 3)
            io.stop();
        });
        runner.async_run(asio::detached);
        io.run();
      }
    }
    token.reset();
    CHECK(delivered >= 3);
    CHECK(delivered < 200);
    CHECK(weak.expired());
  }
}
