// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Pulled results (JobRunner::results, jobrunner::ResultStream): every result
// once, the end of the job, backpressure, cancellation of a pull, misuse.
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstddef>
#include <future>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

namespace asio = boost::asio;
using jobrunner::test::outcome;
using jobrunner::test::run_to_completion;

namespace {
jobrunner::JobConfig small(std::size_t workers, std::size_t work_capacity,
                           std::size_t result_capacity)
{
  jobrunner::JobConfig c;
  c.workers = workers;
  c.work_queue_capacity = work_capacity;
  c.result_queue_capacity = result_capacity;
  return c;
}
using runner_type = jobrunner::JobRunner<int, int>;
using result_type = runner_type::task_result;
} // namespace

TEST_CASE("a coroutine pulls every result once, then the end of the job", "[pull]")
{
  asio::io_context io;
  runner_type runner(io, [](int x) {
    if (x % 10 == 3)
      throw std::runtime_error("three");
    return 2 * x;
  });
  runner.add_producer([](auto& out) -> asio::awaitable<void> {
    for (int i = 0; i < 100; ++i)
      co_await out.submit(i);
  });
  auto results = runner.results();
  outcome out;
  jobrunner::test::start(runner, out);
  std::multiset<int> items;
  int failed = 0;
  int ends = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;)
        {
          auto [ec, r] = co_await results.async_next(asio::as_tuple(asio::use_awaitable));
          REQUIRE(!ec);
          if (!r)
            break;
          items.insert(r->item);
          if (r->ok())
            CHECK(*r->value == 2 * r->item);
          else
          {
            CHECK(r->status == jobrunner::task_status::failed);
            ++failed;
          }
        }
        ++ends;
        // After the end, every pull completes at once with the end.
        auto again = co_await results.async_next(asio::use_awaitable);
        CHECK(!again);
        ++ends;
      },
      [](std::exception_ptr e) { CHECK(!e); });
  REQUIRE(run_to_completion(io));
  CHECK(ends == 2);
  CHECK(items.size() == 100);
  CHECK(std::set<int>(items.begin(), items.end()).size() == 100);
  CHECK(failed == 10);
  CHECK(!out.ec);
  CHECK(out.summary.succeeded == 90);
  CHECK(out.summary.failed == 10);
}

// Found by CI on Boost 1.88 and 1.92: their channels post the completion of a
// receive on a closed channel to the channel's executor, which had stopped
// (run() had returned), so a pull made after the end never completed.
TEST_CASE("a pull after run() has returned still completes with the end of the job", "[pull][end]")
{
  asio::io_context io;
  runner_type runner(io, [](int x) { return x + 1; });
  runner.add_range(jobrunner::test::iota(0, 5));
  auto results = runner.results();
  int pulled = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (co_await results.async_next(asio::use_awaitable))
          ++pulled;
      },
      [](std::exception_ptr e) { CHECK(!e); });
  CHECK(runner.run().succeeded == 5);
  CHECK(pulled == 5);
  REQUIRE(io.stopped());

  // A token with an executor of its own (use_future's) completes without the
  // job's executor: from this thread, while nothing runs the io_context.
  auto end = results.async_next(asio::use_future);
  REQUIRE(end.wait_for(std::chrono::seconds(30)) == std::future_status::ready); // a hang guard
  CHECK_FALSE(end.get().has_value());

  // A plain callback completes on the job's executor, once it runs again.
  int ends = 0;
  results.async_next([&](boost::system::error_code ec, std::optional<result_type> r) {
    CHECK(!ec);
    CHECK(!r);
    ++ends;
  });
  CHECK(ends == 0); // never inside the initiating call
  io.restart();
  io.run();
  CHECK(ends == 1);
}

TEST_CASE("a puller that does not pull holds the job back within the live-item bound",
          "[pull][backpressure]")
{
  asio::io_context io;
  const auto config = small(3, 4, 2);
  runner_type runner(
      io, [](int x) { return x; }, config);
  runner.add_producer([](auto& out) -> asio::awaitable<void> {
    for (int i = 0; i < 1000; ++i)
      co_await out.submit(i);
  });
  auto results = runner.results();
  outcome out;
  jobrunner::test::start(runner, out);
  while (io.poll() != 0) // everything that can run without a pull has run
  {}
  const auto st = runner.stats();
  // Taken by workers at most: the ones in the result queue (2), the one
  // waiting in the result handler, one per worker holding its result.
  CHECK(st.done() <= 2 + 1);
  CHECK(st.submitted <= config.live_item_bound(1));
  CHECK(!out.done());
  int pulled = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (auto r = co_await results.async_next(asio::use_awaitable))
          ++pulled;
      },
      [](std::exception_ptr e) { CHECK(!e); });
  REQUIRE(run_to_completion(io));
  CHECK(pulled == 1000);
  CHECK(out.summary.succeeded == 1000);
}

TEST_CASE("a cancelled pull takes no result: the next pull gets it", "[pull][cancel]")
{
  asio::io_context io;
  runner_type runner(
      io, [](int x) { return x; }, small(1, 1, 1));
  auto input = runner.open_input();
  auto results = runner.results();
  outcome out;
  jobrunner::test::start(runner, out);
  asio::cancellation_signal signal;
  int calls = 0;
  boost::system::error_code pull_ec;
  results.async_next(asio::bind_cancellation_slot(
      signal.slot(), [&](boost::system::error_code ec, std::optional<result_type> r) {
        ++calls;
        pull_ec = ec;
        CHECK(!r);
      }));
  while (io.poll() != 0) // the pull waits: nothing to deliver
  {}
  CHECK(calls == 0);
  signal.emit(asio::cancellation_type::terminal);
  while (io.poll() != 0)
  {}
  CHECK(calls == 1);
  CHECK(pull_ec == asio::error::operation_aborted);

  int seven = 7;
  REQUIRE(input.try_add(seven));
  while (io.poll() != 0) // the result now waits in the result handler
  {}
  std::optional<int> got;
  results.async_next([&](boost::system::error_code ec, std::optional<result_type> r) {
    CHECK(!ec);
    REQUIRE(r);
    got = r->item;
  });
  input.close();
  REQUIRE(run_to_completion(io)); // the job's end needs no last pull
  CHECK(got == 7);
  bool ended = false;
  results.async_next([&](boost::system::error_code ec, std::optional<result_type> r) {
    CHECK(!ec);
    CHECK(!r);
    ended = true;
  });
  REQUIRE(run_to_completion(io));
  CHECK(ended);
  CHECK(!out.ec);
  CHECK(out.summary.succeeded == 1);
}

TEST_CASE("pulled results follow submission order with ordered_delivery", "[pull][order]")
{
  asio::io_context io;
  auto config = small(8, 8, 4);
  config.ordered_delivery = true;
  runner_type runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await jobrunner::test::sleep_for(std::chrono::microseconds((x * 37) % 50));
        co_return x;
      },
      config);
  runner.add_producer([](auto& out) -> asio::awaitable<void> {
    for (int i = 0; i < 200; ++i)
      co_await out.submit(i);
  });
  auto results = runner.results();
  outcome out;
  jobrunner::test::start(runner, out);
  std::vector<int> order;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (auto r = co_await results.async_next(asio::use_awaitable))
          order.push_back(r->item);
      },
      [](std::exception_ptr e) { CHECK(!e); });
  REQUIRE(run_to_completion(io));
  REQUIRE(order.size() == 200);
  for (int i = 0; i < 200; ++i)
    CHECK(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("a puller that adds what it discovers: when_idle ends the job", "[pull][input]")
{
  asio::io_context io;
  runner_type runner(
      io, [](int x) { return x; }, small(4, 2, 2));
  auto input = runner.open_input(jobrunner::input_end::when_idle);
  auto results = runner.results();
  int seed = 1;
  REQUIRE(input.try_add(seed));
  outcome out;
  jobrunner::test::start(runner, out);
  std::multiset<int> seen;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (auto r = co_await results.async_next(asio::use_awaitable))
        {
          seen.insert(r->item);
          for (int child : {2 * r->item, 2 * r->item + 1})
            if (child < 300)
              // Not awaited from here: the job could not make room while we wait.
              input.async_add(child, [](boost::system::error_code ec) { CHECK(!ec); });
        }
      },
      [](std::exception_ptr e) { CHECK(!e); });
  REQUIRE(run_to_completion(io));
  CHECK(seen.size() == 299);
  CHECK(std::set<int>(seen.begin(), seen.end()).size() == 299);
  CHECK(!out.ec);
  CHECK(out.summary.succeeded == 299);
}

TEST_CASE("results() and a task-complete callback together are a logic_error", "[pull][errors]")
{
  asio::io_context io;
  runner_type a(io, [](int x) { return x; });
  a.on_task_complete([](auto&) {});
  CHECK_THROWS_AS(a.results(), std::logic_error);
  runner_type b(io, [](int x) { return x; });
  (void)b.results();
  CHECK_THROWS_AS(b.on_task_complete([](auto&) {}), std::logic_error);
}
