// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
//
// Memory versus wait: a fast producer, fast tasks, and a slow task-complete
// callback (a busy loop of C microseconds). For each queue capacity Q (both
// channels), prints how long the producer took to hand over its input, the
// most items held in the work queue, the most items alive at once (counted,
// not estimated), and the whole job's time.
//
//   tradeoff_bench [N=20000] [W=50] [C_us=20] [Q...=1 10 100 1000 10000 100000]
#include <jobrunner/jobrunner.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

struct counted
{
  static inline long live = 0;
  static inline long peak = 0;
  explicit counted(long v = 0) : value(v) { add(); }
  counted(const counted& o) : value(o.value) { add(); }
  counted(counted&& o) noexcept : value(o.value) { add(); }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) noexcept = default;
  ~counted() { --live; }
  static void add()
  {
    if (++live > peak)
      peak = live;
  }
  long value;
};

void busy_for(std::chrono::microseconds d)
{
  auto until = clock_type::now() + d;
  while (clock_type::now() < until)
  {}
}

} // namespace

int main(int argc, char** argv)
{
  long n = argc > 1 ? std::atol(argv[1]) : 20000;
  std::size_t workers = argc > 2 ? static_cast<std::size_t>(std::atol(argv[2])) : 50;
  std::chrono::microseconds callback_cost(argc > 3 ? std::atol(argv[3]) : 20);
  std::vector<std::size_t> capacities;
  for (int i = 4; i < argc; ++i)
    capacities.push_back(static_cast<std::size_t>(std::atol(argv[i])));
  if (capacities.empty())
    capacities = {1, 10, 100, 1000, 10000, 100000};

  std::printf("N=%ld W=%zu callback=%ldus\n%8s %14s %14s %12s %10s\n", n, workers,
              static_cast<long>(callback_cost.count()), "Q", "producer_ms", "max_queued",
              "peak_items", "job_ms");
  for (auto q : capacities)
  {
    counted::live = 0;
    counted::peak = 0;
    asio::io_context io(1);
    jobrunner::JobConfig config;
    config.workers = workers;
    config.work_queue_capacity = q;
    config.result_queue_capacity = q;
    jobrunner::JobRunner<counted, long> runner(
        io, [](counted& c) { return c.value; }, config);
    auto start = clock_type::now();
    clock_type::time_point producer_done;
    runner.add_producer([&](auto& out) -> asio::awaitable<void> {
      for (long i = 0; i < n; ++i)
      {
        counted c(i);
        if (!out.try_submit(c))
          co_await out.submit(std::move(c));
      }
      producer_done = clock_type::now();
    });
    runner.on_task_complete([&](auto&) { busy_for(callback_cost); });
    auto summary = runner.run();
    auto ms = [&](clock_type::time_point t) {
      return std::chrono::duration<double, std::milli>(t - start).count();
    };
    std::printf("%8zu %14.1f %14zu %12ld %10.1f\n", q, ms(producer_done), summary.max_queue_depth,
                counted::peak, std::chrono::duration<double, std::milli>(summary.elapsed).count());
  }
  return EXIT_SUCCESS;
}
