// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The live-item bound (JobConfig::live_item_bound): driven to its edge, where
// every place that can hold an item holds one, it is reached and not passed.
#include <jobrunner/jobrunner.hpp>

#include "test_support.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using jobrunner::JobConfig;
using jobrunner::JobRunner;
using jobrunner::test::counted;

TEST_CASE("the live-item bound is reached when every queue and coroutine is full, never passed",
          "[memory]")
{
  // P producers, W workers, Qw, Qr: a small job, the (a rendezvous
  // result queue), and the defaults.
  const auto [producers, workers, qw, qr] =
      GENERATE(table<std::size_t, std::size_t, std::size_t, std::size_t>(
          {{3, 5, 4, 2}, {1, 50, 10, 0}, {2, 50, 100, 100}}));
  CAPTURE(producers, workers, qw, qr);
  counted::reset();
  JobConfig config;
  config.workers = workers;
  config.work_queue_capacity = qw;
  config.result_queue_capacity = qr;
  const long bound = static_cast<long>(config.live_item_bound(producers));
  REQUIRE(bound == static_cast<long>(producers + qw + workers + qr + 1));

  asio::io_context io(2);
  JobRunner<counted, long, jobrunner::multi_threaded> runner(
      io, [](counted& c) { return c.value; }, config);
  for (std::size_t p = 0; p < producers; ++p)
    runner.add_range(jobrunner::test::mapped(0L, 1000L, [](long v) { return counted(v); }));

  // The first task-complete callback holds the result handler (and one of
  // the two threads) until the test has seen the job fill up: then each
  // producer waits in a submit, the work queue is full, each worker waits to
  // send its result into the full result queue, and the handler holds one.
  std::mutex mutex;
  std::condition_variable cv;
  bool released = false;
  bool first = true;
  long results = 0;
  runner.on_task_complete([&](auto&) {
    ++results;
    if (!std::exchange(first, false))
      return;
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return released; });
  });
  runner.async_run([](auto, auto) {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&io] { io.run(); });

  // Waits for an observed state with a generous deadline, asserts no timing.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (counted::values.load() < bound && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const long reached = counted::values.load();
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  cv.notify_all();
  for (auto& t : threads)
    t.join();

  INFO("bound " << bound << ", reached " << reached << ", peak " << counted::peak_values.load()
                << " items; peak objects, moved-from shells included: "
                << counted::peak_objects.load());
  CHECK(reached == bound);
  CHECK(counted::peak_values.load() == bound);
  CHECK(results == static_cast<long>(1000 * producers));
  CHECK(counted::values.load() == 0);
  CHECK(counted::objects.load() == 0);
}
