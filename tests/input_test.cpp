// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Items added while the job runs (JobRunner::open_input, jobrunner::Input):
// when input ends, backpressure, misuse, cancellation. Single-threaded here;
// threading_test.cpp adds from other threads.
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <cstddef>
#include <map>
#include <set>
#include <stdexcept>
#include <vector>

namespace asio = boost::asio;
using jobrunner::test::outcome;
using jobrunner::test::run_to_completion;

namespace {
jobrunner::JobConfig small(std::size_t workers, std::size_t work_capacity,
                           std::size_t result_capacity = 10)
{
  jobrunner::JobConfig c;
  c.workers = workers;
  c.work_queue_capacity = work_capacity;
  c.result_queue_capacity = result_capacity;
  return c;
}

// A synthetic graph: node n links to 2n+1 and 2n+2 below `nodes`, and back to 0.
std::vector<int> links_of(int n, int nodes)
{
  std::vector<int> out{0};
  for (int c : {2 * n + 1, 2 * n + 2})
    if (c < nodes)
      out.push_back(c);
  return out;
}
} // namespace

TEST_CASE("add_range from the task-complete callback is a clear error, not a silent drop",
          "[input][errors]")
{
  asio::io_context io;
  jobrunner::JobRunner<int, int> runner(
      io, [](int x) { return x; }, small(2, 4));
  runner.add_range(std::vector<int>{1, 2, 3});
  int calls = 0;
  runner.on_task_complete([&](auto&) {
    ++calls;
    runner.add_range(std::vector<int>{4, 5}); // too late: the job runs
  });
  outcome out;
  jobrunner::test::start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(calls == 3);
  CHECK(out.ec == jobrunner::errc::input_added_after_start);
  CHECK(out.summary.callback_errors == 3);
}

TEST_CASE("open input, on_close: items from a callback and a posted handler each get one result",
          "[input]")
{
  asio::io_context io;
  jobrunner::JobRunner<int, int> runner(
      io, [](int x) { return 10 * x; }, small(3, 2));
  auto input = runner.open_input(); // input_end::on_close
  runner.add_range(std::vector<int>{1, 2});
  std::multiset<int> seen;
  runner.on_task_complete([&](auto& r) {
    REQUIRE(r.ok());
    seen.insert(*r.value);
    if (r.item == 1) // added from the callback, without waiting
      input.async_add(100, [](boost::system::error_code ec) { CHECK(!ec); });
    if (r.item == 100)
      input.close();
  });
  asio::post(io, [&] {
    int seven = 7;
    CHECK(input.try_add(seven));
  });
  outcome out;
  jobrunner::test::start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(!out.ec);
  CHECK(seen == std::multiset<int>{10, 20, 70, 1000});
  CHECK(out.summary.submitted == 4);
  CHECK(out.summary.succeeded == 4);
  CHECK(input.closed());
  int late = 1;
  CHECK_THROWS_AS(input.try_add(late), boost::system::system_error);
  boost::system::error_code ec;
  CHECK(!input.try_add(late, ec));
  CHECK(ec == jobrunner::errc::input_closed);
  CHECK(late == 1); // untouched
}

TEST_CASE("on_close: the job waits for close() however long the input stays idle", "[input]")
{
  asio::io_context io;
  jobrunner::JobRunner<int, int> runner(
      io, [](int x) { return x; }, small(2, 2));
  auto input = runner.open_input(jobrunner::input_end::on_close);
  int results = 0;
  runner.on_task_complete([&](auto&) { ++results; });
  outcome out;
  jobrunner::test::start(runner, out);
  while (io.poll() != 0) // idle: everything that can run has run
  {}
  CHECK(!out.done());
  int one = 1;
  CHECK(input.try_add(one));
  while (io.poll() != 0)
  {}
  CHECK(results == 1);
  CHECK(!out.done());
  input.close();
  REQUIRE(run_to_completion(io));
  CHECK(!out.ec);
  CHECK(out.summary.succeeded == 1);
}

TEST_CASE("when_idle: a crawler visits every node once and ends by itself", "[input]")
{
  constexpr int nodes = 500;
  asio::io_context io;
  auto crawl = [](int n) -> asio::awaitable<std::vector<int>> {
    co_await jobrunner::test::sleep_for(std::chrono::microseconds(n % 7));
    co_return links_of(n, nodes);
  };
  jobrunner::JobRunner<int, std::vector<int>> runner(io, crawl, small(8, 4, 4));
  auto input = runner.open_input(jobrunner::input_end::when_idle);
  std::set<int> visited{0};
  std::map<int, int> results;
  int waited = 0;
  runner.on_task_complete([&](auto& r) {
    REQUIRE(r.ok());
    ++results[r.item];
    for (int link : *r.value)
      if (visited.insert(link).second && !input.try_add(link))
      {
        ++waited; // the queue is full: the add waits in its operation
        input.async_add(link, [](boost::system::error_code ec) { CHECK(!ec); });
      }
  });
  int seed = 0;
  REQUIRE(input.try_add(seed)); // before the start: the seed
  outcome out;
  jobrunner::test::start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(!out.ec);
  CHECK(results.size() == nodes);
  for (auto& [node, count] : results)
    CHECK(count == 1);
  CHECK(out.summary.succeeded == nodes);
  CHECK(waited > 0); // the queue filled up: the async path was taken
  int late = 1;
  boost::system::error_code ec;
  CHECK(!input.try_add(late, ec));
  CHECK(ec == jobrunner::errc::input_closed);
}

TEST_CASE("when_idle with nothing added ends at once, producers keep it open", "[input]")
{
  asio::io_context io;
  jobrunner::JobRunner<int, int> empty(
      io, [](int x) { return x; }, small(2, 2));
  (void)empty.open_input(jobrunner::input_end::when_idle);
  outcome out;
  jobrunner::test::start(empty, out);
  REQUIRE(run_to_completion(io));
  CHECK(!out.ec);
  CHECK(out.summary.submitted == 0);

  jobrunner::JobRunner<int, int> fed(
      io, [](int x) { return x; }, small(2, 2));
  auto input = fed.open_input(jobrunner::input_end::when_idle);
  fed.add_range(std::vector<int>{1, 2, 3});
  int extra = 0;
  fed.on_task_complete([&](auto& r) {
    if (r.item == 3)
    {
      int four = 4;
      extra += input.try_add(four) ? 1 : 0;
    }
  });
  outcome out2;
  jobrunner::test::start(fed, out2);
  REQUIRE(run_to_completion(io));
  CHECK(extra == 1);
  CHECK(out2.summary.succeeded == 4);
}

TEST_CASE("async_add waits while the work queue is full and completes when there is room",
          "[input][backpressure]")
{
  asio::io_context io;
  // One worker, a one-slot queue, a slow task: the third add must wait.
  auto slow = [](int x) -> asio::awaitable<int> {
    co_await jobrunner::test::sleep_for(std::chrono::milliseconds(2));
    co_return x;
  };
  jobrunner::JobRunner<int, int> runner(io, slow, small(1, 1));
  auto input = runner.open_input();
  std::vector<int> order;
  runner.on_task_complete([&](auto& r) { order.push_back(r.item); });
  outcome out;
  jobrunner::test::start(runner, out);
  std::vector<int> added;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i)
        {
          co_await input.async_add(i, asio::use_awaitable);
          added.push_back(i);
          // At most: one in the queue, one in the task.
          CHECK(runner.stats().queued <= 1);
        }
        input.close();
      },
      [](std::exception_ptr e) { CHECK(!e); });
  REQUIRE(run_to_completion(io));
  CHECK(added == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(out.summary.max_queue_depth <= 1);
}

TEST_CASE("a cancelled async_add adds nothing, a cancelled job refuses adds", "[input][cancel]")
{
  asio::io_context io;
  jobrunner::JobRunner<int, int> runner(
      io, [](int x) { return x; }, small(1, 0));
  auto input = runner.open_input();
  int results = 0;
  runner.on_task_complete([&](auto&) { ++results; });
  // Not started: the queue is a rendezvous, so this add waits for a worker.
  asio::cancellation_signal signal;
  boost::system::error_code add_ec;
  int calls = 0;
  input.async_add(1, asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec) {
                    ++calls;
                    add_ec = ec;
                  }));
  while (io.poll() != 0)
  {}
  CHECK(calls == 0);
  signal.emit(asio::cancellation_type::terminal);
  while (io.poll() != 0)
  {}
  CHECK(calls == 1);
  CHECK(add_ec == asio::error::operation_aborted);

  runner.cancel();
  boost::system::error_code ec;
  int two = 2;
  CHECK(!input.try_add(two, ec));
  CHECK(ec == asio::error::operation_aborted);
  input.async_add(3, [&](boost::system::error_code e) { add_ec = e; });
  outcome out;
  jobrunner::test::start(runner, out);
  REQUIRE(run_to_completion(io));
  CHECK(add_ec == asio::error::operation_aborted);
  CHECK(out.ec == asio::error::operation_aborted);
  CHECK(results == 0);
  CHECK(out.summary.submitted == 0);
}

TEST_CASE("open_input: misuse is a logic_error", "[input][errors]")
{
  asio::io_context io;
  jobrunner::JobRunner<int, int> runner(io, [](int x) { return x; });
  (void)runner.open_input();
  CHECK_THROWS_AS(runner.open_input(), std::logic_error);
  outcome out;
  jobrunner::test::start(runner, out);
  CHECK_THROWS_AS(runner.open_input(), std::logic_error);
  runner.cancel();
  REQUIRE(run_to_completion(io));
}

TEST_CASE("live_item_bound counts the adds pending at once", "[input][memory]")
{
  jobrunner::JobConfig c = small(4, 8, 2);
  CHECK(c.live_item_bound(1, 3) == c.live_item_bound(1) + 3);
  CHECK(c.live_item_bound(0, 2) == c.live_item_bound(2));
}

// drain() stops taking new input: an open input refuses adds from then on,
// as after close(), and the job ends drained without waiting for a close().
TEST_CASE("drain closes an open input: later adds fail with input_closed, the job ends drained",
          "[input][drain]")
{
  for (auto rule : {jobrunner::input_end::on_close, jobrunner::input_end::when_idle})
  {
    asio::io_context io;
    jobrunner::JobRunner<int, int> runner(
        io, [](int x) { return x; }, small(2, 2));
    auto input = runner.open_input(rule);
    int results = 0;
    runner.on_task_complete([&](auto&) { ++results; });
    outcome out;
    jobrunner::test::start(runner, out);
    int one = 1;
    CHECK(input.try_add(one));
    runner.drain();
    int two = 2;
    boost::system::error_code ec;
    CHECK_FALSE(input.try_add(two, ec));
    CHECK(ec == jobrunner::errc::input_closed);
    CHECK(input.closed());
    REQUIRE(run_to_completion(io));
    CHECK(!out.ec);
    CHECK(out.summary.status == jobrunner::job_status::drained);
    CHECK(out.summary.succeeded == 1);
    CHECK(results == 1);
  }
}
