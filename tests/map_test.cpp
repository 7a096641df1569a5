// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// One call for the common case: async_map / map (results in input order),
// async_for_each / for_each (nothing kept).
#include <jobrunner/jobrunner.hpp>

#include "test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>

#include <atomic>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using jobrunner::test::run_to_completion;

TEST_CASE("map: results in input order, each with its status", "[map]")
{
  std::vector<int> input;
  for (int i = 0; i < 300; ++i)
    input.push_back(i);
  auto results = jobrunner::map(input, [](int x) -> asio::awaitable<std::string> {
    // Later items finish first: the order of completion is not the input's.
    co_await jobrunner::test::sleep_for(std::chrono::microseconds(300 - x));
    if (x % 50 == 7)
      throw std::runtime_error("seven");
    co_return std::to_string(x);
  });
  REQUIRE(results.size() == 300);
  for (int i = 0; i < 300; ++i)
  {
    const auto& r = results[static_cast<std::size_t>(i)];
    CHECK(r.item == i);
    if (i % 50 == 7)
    {
      CHECK(r.status == jobrunner::task_status::failed);
      CHECK(r.error);
    }
    else
    {
      REQUIRE(r.ok());
      CHECK(*r.value == std::to_string(i));
    }
  }
}

TEST_CASE("async_map in a coroutine, with a config, over an rvalue range of move-only items",
          "[map]")
{
  asio::io_context io;
  std::list<int> source{5, 4, 3, 2, 1};
  jobrunner::JobConfig config;
  config.workers = 2;
  config.ordered_delivery = false;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto [ec, squares] = co_await jobrunner::async_map(
            io.get_executor(), source, [](int& x) { return x * x; }, config,
            asio::as_tuple(asio::use_awaitable));
        CHECK(!ec);
        REQUIRE(squares.size() == 5);
        CHECK(*squares[0].value == 25);
        CHECK(*squares[4].value == 1);
        std::vector<std::unique_ptr<int>> boxes;
        boxes.push_back(std::make_unique<int>(3));
        boxes.push_back(std::make_unique<int>(4));
        auto [ec2, values] = co_await jobrunner::async_map(
            io.get_executor(), std::move(boxes), [](std::unique_ptr<int>& p) { return *p + 1; },
            asio::as_tuple(asio::use_awaitable));
        CHECK(!ec2);
        REQUIRE(values.size() == 2);
        CHECK(*values[0].item == 3);
        CHECK(*values[1].value == 5);
        done = true;
      },
      [](std::exception_ptr e) { CHECK(!e); });
  REQUIRE(run_to_completion(io));
  CHECK(done);
}

TEST_CASE("async_map: a cancellation through the token's slot cancels the job", "[map][cancel]")
{
  asio::io_context io;
  asio::cancellation_signal signal;
  std::vector<int> input(1000, 1);
  boost::system::error_code ec;
  std::size_t count = 0;
  std::size_t cancelled = 0;
  jobrunner::async_map(
      io.get_executor(), input,
      [](int x) -> asio::awaitable<int> {
        co_await jobrunner::test::sleep_for(std::chrono::seconds(30));
        co_return x;
      },
      asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code e, auto results) {
        ec = e;
        count = results.size();
        for (auto& r : results)
          cancelled += r.status == jobrunner::task_status::cancelled ? 1 : 0;
      }));
  while (io.poll() != 0)
  {}
  signal.emit(asio::cancellation_type::terminal);
  REQUIRE(run_to_completion(io));
  CHECK(ec == asio::error::operation_aborted);
  CHECK(count > 0);
  CHECK(cancelled == count);
}

TEST_CASE("for_each and async_for_each keep nothing and count everything", "[map]")
{
  asio::io_context io;
  std::atomic<int> sum{0};
  std::vector<int> input{1, 2, 3, 4};
  auto summary = jobrunner::for_each(io, input, [&](int x) { sum += x; });
  CHECK(sum == 10);
  CHECK(summary.succeeded == 4);

  jobrunner::JobSummary async_summary;
  jobrunner::async_for_each(
      io.get_executor(), input,
      [](int x) {
        if (x == 2)
          throw std::runtime_error("two");
      },
      [&](boost::system::error_code ec, jobrunner::JobSummary s) {
        CHECK(!ec);
        async_summary = s;
      });
  REQUIRE(run_to_completion(io));
  CHECK(async_summary.succeeded == 3);
  CHECK(async_summary.failed == 1);
}
