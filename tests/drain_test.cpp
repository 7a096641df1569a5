// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// JobRunner::drain (issue 13 item 5): producers stop taking input, what was
// submitted finishes, and after an optional grace period the rest is
// cancelled. (Threaded cases: threading_test.cpp.)
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <chrono>
#include <map>
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

JobConfig small(std::size_t workers, std::size_t capacity)
{
  JobConfig config;
  config.workers = workers;
  config.work_queue_capacity = capacity;
  return config;
}

// Every submitted item has exactly one outcome, and (a drain with no grace
// expiry) every one of them ran to success.
void check_drained(const outcome& out, const std::map<int, int>& calls)
{
  REQUIRE(out.calls == 1);
  CHECK_FALSE(out.ec);
  CHECK(out.summary.status == job_status::drained);
  CHECK(out.summary.cancelled == 0);
  CHECK(out.summary.succeeded == out.summary.submitted);
  CHECK(calls.size() == out.summary.submitted);
  for (auto& [item, n] : calls)
    CHECK(n == 1);
  CHECK(out.summary.producer_errors == 0);
}

} // namespace

TEST_CASE("drain from a task: input stops, queued and in-flight items finish", "[drain]")
{
  asio::io_context io;
  JobRunner<int, int>* self = nullptr;
  JobRunner<int, int> runner(
      io,
      [&self](int x) -> asio::awaitable<int> {
        if (x == 20)
          self->drain();
        co_await sleep_for(1ms);
        co_return x;
      },
      small(2, 4));
  self = &runner;
  std::map<int, int> calls;
  runner.add_range(jobrunner::test::iota(0, 1000)).on_task_complete([&](auto& r) {
    ++calls[r.item];
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  check_drained(out, calls);
  CHECK(out.summary.submitted > 20);
  CHECK(out.summary.submitted < 1000);
}

TEST_CASE("drain from the task-complete callback with a synchronous function", "[drain]")
{
  asio::io_context io;
  JobRunner<int, int> runner(
      io, [](int x) { return x; }, small(3, 8));
  std::map<int, int> calls;
  runner.add_range(jobrunner::test::iota(0, 1000)).on_task_complete([&](auto& r) {
    ++calls[r.item];
    if (r.item == 5)
      runner.drain(1h); // a grace that is never needed: the job must not wait for it
  });
  outcome out;
  start(runner, out);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(run_to_completion(io)); // the grace timer is not left behind
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);
  check_drained(out, calls);
  CHECK(out.summary.submitted < 1000);
}

TEST_CASE("drain: a submit blocked at the drain still delivers its item, the next one throws",
          "[drain]")
{
  asio::io_context io;
  JobRunner<int, int>* self = nullptr;
  JobRunner<int, int> runner(
      io,
      [&self](int x) -> asio::awaitable<int> {
        co_await sleep_for(1ms);
        if (x == 3) // meanwhile the producer waits in submit(4): capacity 0
          self->drain();
        co_return x;
      },
      small(1, 0));
  self = &runner;
  std::vector<int> accepted;
  bool refused = false;
  runner.add_producer([&](auto& out) -> asio::awaitable<void> {
    for (int i = 0; i < 100; ++i)
    {
      try
      {
        co_await out.submit(i);
      }
      catch (const boost::system::system_error& e)
      {
        CHECK(e.code() == asio::error::operation_aborted);
        CHECK(out.cancelled());
        refused = true;
        co_return;
      }
      accepted.push_back(i);
    }
  });
  std::map<int, int> calls;
  runner.on_task_complete([&](auto& r) { ++calls[r.item]; });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  check_drained(out, calls);
  CHECK(refused);
  CHECK(accepted == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(out.summary.submitted == 5);
}

TEST_CASE("drain interrupts a producer waiting on its own input", "[drain]")
{
  asio::io_context io;
  JobRunner<int, int> runner(
      io, [](int x) { return x; }, small(2, 4));
  bool interrupted = false;
  runner.add_producer([&](auto& out) -> asio::awaitable<void> {
    co_await out.submit(1);
    co_await out.submit(2);
    try
    {
      co_await sleep_for(1h); // input that never comes
    }
    catch (const boost::system::system_error& e)
    {
      interrupted = e.code() == asio::error::operation_aborted;
      throw;
    }
  });
  std::map<int, int> calls;
  runner.on_task_complete([&](auto& r) {
    ++calls[r.item];
    if (r.item == 2)
      runner.drain();
  });
  outcome out;
  start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(interrupted);
  check_drained(out, calls); // the producer's operation_aborted is no producer error
  CHECK(out.summary.submitted == 2);
}

TEST_CASE("drain with a grace period: when it expires the rest is cancelled", "[drain]")
{
  asio::io_context io;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await sleep_for(1h);
        co_return x;
      },
      small(3, 2));
  std::map<int, int> calls;
  runner.add_range(jobrunner::test::iota(0, 100)).on_task_complete([&](auto& r) {
    ++calls[r.item];
    CHECK(r.status == task_status::cancelled);
  });
  outcome out;
  start(runner, out);
  const auto t0 = std::chrono::steady_clock::now();
  // The drain comes once the work queue is full and the producer waits (an
  // event, not a fixed time): then nothing is ready to run.
  while (runner.stats().submitted < 5 && std::chrono::steady_clock::now() - t0 < 30s)
    io.run_one_for(100ms);
  io.poll();
  REQUIRE(runner.stats().submitted >= 5);
  runner.drain(50ms);
  REQUIRE(run_to_completion(io));
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);
  CHECK(out.ec == asio::error::operation_aborted);
  CHECK(out.summary.status == job_status::cancelled);
  CHECK(out.summary.submitted == 5); // 3 in flight, 2 queued
  CHECK(out.summary.cancelled == 5);
  CHECK(calls.size() == 5);
}

TEST_CASE("drain: before the start, twice, after the end, and cancel after a drain", "[drain]")
{
  {
    asio::io_context io;
    JobRunner<int, int> runner(
        io, [](int x) { return x; }, small(2, 4));
    runner.add_range(jobrunner::test::iota(0, 100));
    runner.drain();
    runner.drain(); // idempotent
    auto s = runner.run();
    CHECK(s.status == job_status::drained);
    CHECK(s.submitted == 0);
    runner.drain(); // after the end: nothing
    runner.drain(1ms);
    CHECK(run_to_completion(io));
  }
  {
    // A second drain with a grace shortens the first's (none).
    asio::io_context io;
    JobRunner<int, int> runner(
        io,
        [](int x) -> asio::awaitable<int> {
          co_await sleep_for(1h);
          co_return x;
        },
        small(2, 0));
    runner.add_range(jobrunner::test::iota(0, 100));
    asio::steady_timer later(io, 10ms);
    later.async_wait([&](boost::system::error_code) {
      runner.drain();
      runner.drain(1h);
      runner.drain(10ms);
    });
    const auto t0 = std::chrono::steady_clock::now();
    outcome out;
    start(runner, out);
    REQUIRE(run_to_completion(io));
    CHECK(std::chrono::steady_clock::now() - t0 < 30s);
    CHECK(out.summary.status == job_status::cancelled);
    CHECK(out.summary.cancelled == out.summary.submitted);
  }
  {
    asio::io_context io;
    JobRunner<int, int> runner(
        io,
        [](int x) -> asio::awaitable<int> {
          co_await sleep_for(1h);
          co_return x;
        },
        small(2, 2));
    runner.add_range(jobrunner::test::iota(0, 100));
    asio::steady_timer later(io, 10ms);
    later.async_wait([&](boost::system::error_code) {
      runner.drain();
      runner.cancel();
    });
    outcome out;
    start(runner, out);
    REQUIRE(run_to_completion(io));
    CHECK(out.ec == asio::error::operation_aborted);
    CHECK(out.summary.status == job_status::cancelled);
  }
}

// --- the draining event's control, alone (detail/drain_control.hpp) ---

namespace {

// What drain_control needs of a job, with the drain's flag set by hand.
struct fake_job
{
  bool requested = false;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  int draining_events = 0;
  int cancels = 0;
  std::shared_ptr<int> keep = std::make_shared<int>(0);

  bool drain_requested() const noexcept { return requested; }
  auto drain_deadline() const noexcept { return deadline; }
  bool cancel_requested() const noexcept { return cancels > 0; }
  void request_cancel() noexcept { ++cancels; }
  std::shared_ptr<const void> alive() const noexcept { return keep; }
  void notify(jobrunner::event_kind kind, std::uint64_t, std::int64_t) noexcept
  {
    draining_events += kind == jobrunner::event_kind::draining;
  }
};

} // namespace

TEST_CASE("a drain whose notice reaches the control after the job ended is still announced once",
          "[drain][event]")
{
  // The order a thread calling drain() can be preempted into: its flag is
  // set (producers stop, the job ends, the controller closes the control),
  // and only then does its notice post the announcement.
  asio::io_context io;
  jobrunner::detail::drain_control control(io.get_executor());
  fake_job job;
  control.open(job);
  job.requested = true;
  CHECK(control.close(job)); // the drain took effect
  control.changed(job);
  io.run();
  CHECK(job.draining_events == 1);
  CHECK(job.cancels == 0);
}

TEST_CASE("a drain asked for after the control closed has no effect and no event", "[drain][event]")
{
  asio::io_context io;
  jobrunner::detail::drain_control control(io.get_executor());
  fake_job job;
  control.open(job);
  CHECK_FALSE(control.close(job));
  job.requested = true;
  job.deadline = std::chrono::steady_clock::now();
  control.changed(job);
  io.run();
  CHECK(job.draining_events == 0);
  CHECK(job.cancels == 0);
}

TEST_CASE("a drain announced on the executor is not announced again at the close", "[drain][event]")
{
  asio::io_context io;
  jobrunner::detail::drain_control control(io.get_executor());
  fake_job job;
  control.open(job);
  job.requested = true;
  control.changed(job);
  io.run();
  CHECK(job.draining_events == 1);
  CHECK(control.close(job));
  io.restart();
  io.run();
  CHECK(job.draining_events == 1);
}
