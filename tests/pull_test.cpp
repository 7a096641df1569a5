// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Pulled results (JobRunner::results, jobrunner::ResultStream): every result
// once, the end of the job, backpressure, cancellation of a pull and of the
// job, an end of input that cannot be posted, misuse.
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
#include <cstdint>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <utility>
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

// An executor whose execute() throws std::bad_alloc, as a post does out of
// memory, at the call `*fail_at` counts down to (1: the next one; 0: never).
template <class Inner>
struct failing_executor
{
  Inner inner;
  int* fail_at;

  template <class F>
  void execute(F&& f) const
  {
    if (*fail_at > 0 && --*fail_at == 0)
      throw std::bad_alloc();
    inner.execute(std::forward<F>(f));
  }
  template <class P>
  auto query(const P& p) const noexcept -> decltype(asio::query(inner, p))
  {
    return asio::query(inner, p);
  }
  template <class P>
  auto require(const P& p) const
      -> failing_executor<std::decay_t<decltype(asio::require(inner, p))>>
  {
    return {asio::require(inner, p), fail_at};
  }
  template <class P>
  auto prefer(const P& p) const -> failing_executor<std::decay_t<decltype(asio::prefer(inner, p))>>
  {
    return {asio::prefer(inner, p), fail_at};
  }
  friend bool operator==(const failing_executor& a, const failing_executor& b) noexcept
  {
    return a.inner == b.inner && a.fail_at == b.fail_at;
  }
  friend bool operator!=(const failing_executor& a, const failing_executor& b) noexcept
  {
    return !(a == b);
  }
};

asio::any_io_executor failing(asio::io_context& io, int& fail_at)
{
  return failing_executor<asio::io_context::executor_type>{io.get_executor(), &fail_at};
}
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

// The result handler is never cancelled: a job cancelled while it waits to
// hand a result over still hands over every result, then the end.
TEST_CASE("a job cancelled while the result handler waits for a pull ends with the pulls",
          "[pull][cancel]")
{
  asio::io_context io;
  runner_type runner(
      io, [](int x) { return x; }, small(2, 2, 1));
  runner.add_range(jobrunner::test::iota(0, 20));
  auto results = runner.results();
  outcome out;
  jobrunner::test::start(runner, out);
  while (io.poll() != 0) // the handler waits for a pull, the queues are full
  {}
  REQUIRE(runner.stats().done() >= 1);
  runner.cancel();
  while (io.poll() != 0)
  {}
  CHECK(!out.done()); // a result still waits for its pull
  int pulled = 0;
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
          ++pulled;
        }
        ++ends;
      },
      [](std::exception_ptr e) { CHECK(!e); });
  REQUIRE(run_to_completion(io)); // no coroutine left waiting
  CHECK(ends == 1);
  CHECK(out.ec == asio::error::operation_aborted);
  CHECK(out.summary.cancelled > 0);
  CHECK(static_cast<std::uint64_t>(pulled) == out.summary.succeeded + out.summary.cancelled);
}

// A pull that ends an input (input_end::when_idle) posts that end. Found in
// review: when the post threw, the exception left the pull (or run(), from a
// coroutine), the release was lost, and the job never ended.
TEST_CASE("a pull whose end of input cannot be posted fails and the next pull ends the job",
          "[pull][input][alloc]")
{
  asio::io_context io;
  int fail_at = 0;
  runner_type runner(
      failing(io, fail_at), [](int x) { return x; }, small(2, 2, 2));
  auto input = runner.open_input(jobrunner::input_end::when_idle);
  auto results = runner.results();
  int seed = 1;
  REQUIRE(input.try_add(seed));
  outcome out;
  jobrunner::test::start(runner, out);
  int calls = 0;
  results.async_next([&](boost::system::error_code ec, std::optional<result_type> r) {
    ++calls;
    CHECK(!ec);
    CHECK(r);
  });
  while (io.poll() != 0)
  {}
  REQUIRE(calls == 1); // the seed's result, held: the job waits for the next pull

  // The next pull releases it, the last item: its post of the end fails.
  fail_at = 1;
  boost::system::error_code failed_ec;
  CHECK_NOTHROW(results.async_next([&](boost::system::error_code ec, std::optional<result_type> r) {
    ++calls;
    failed_ec = ec;
    CHECK(!r);
  }));
  CHECK(fail_at == 0);
  while (io.poll() != 0)
  {}
  CHECK(calls == 2);
  CHECK(failed_ec == boost::system::errc::not_enough_memory);
  CHECK(!input.closed()); // nothing changed: no cancel, the input still open

  bool ended = false;
  results.async_next([&](boost::system::error_code ec, std::optional<result_type> r) {
    ++calls;
    CHECK(!ec);
    ended = !r;
  });
  REQUIRE(run_to_completion(io, std::chrono::seconds(10))); // was a hang
  CHECK(calls == 3);
  CHECK(ended);
  CHECK(out.done());
  CHECK(!out.ec);
  CHECK(out.summary.succeeded == 1);
}

// The end of input posted from outside the job's coroutines (an Input's add,
// a pull, a worker's key message) is noexcept (Input::try_add(item, ec) is):
// a post that throws cancels the job instead.
TEST_CASE("an end of input that cannot be posted cancels the job without throwing",
          "[input][alloc]")
{
  asio::io_context io;
  int fail_at = 0;
  using state = jobrunner::detail::job_state<int, int, jobrunner::single_threaded>;
  auto job = std::make_shared<state>(failing(io, fail_at), jobrunner::JobConfig{});
  CHECK(noexcept(jobrunner::detail::end_input_detached<jobrunner::single_threaded>(job)));
  fail_at = 1;
  CHECK_NOTHROW(jobrunner::detail::end_input_detached<jobrunner::single_threaded>(job));
  CHECK(fail_at == 0); // the post failed
  CHECK(job->cancel_requested());
  CHECK(io.poll() == 0); // nothing was posted
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
