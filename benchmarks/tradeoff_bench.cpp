// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
//
// Memory versus wait: one fast producer, instant tasks, and a slow
// task-complete callback (a busy loop of C microseconds). For each queue
// capacity Q (both channels) prints one JSON line: how long the producer
// waited in submit, when it finished handing over its input, the most items
// queued, the most item objects alive at once (counted, moved-from shells
// included), the job's time and the process's peak RSS (VmHWM; run one Q per
// process to read it per Q, as benchmarks/sweep.py does).
//
//   tradeoff_bench [N=20000] [W=50] [C_us=20] [Q...=1 10 100 1000 10000 100000]
#include <jobrunner/jobrunner.hpp>

#include "bench_common.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

// An item with a 256-byte payload, so that queued items show in the RSS.
struct counted
{
  static inline long live = 0;
  static inline long peak = 0;
  explicit counted(long v = 0) : value(v) { add(); }
  counted(const counted& o) : value(o.value), payload(o.payload) { add(); }
  counted(counted&& o) noexcept : value(o.value), payload(o.payload) { add(); }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) noexcept = default;
  ~counted() { --live; }
  static void add()
  {
    if (++live > peak)
      peak = live;
  }
  long value;
  std::array<char, 256> payload{};
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
    clock_type::duration waited{};
    runner.add_producer([&](auto& out) -> asio::awaitable<void> {
      for (long i = 0; i < n; ++i)
      {
        counted c(i);
        if (out.try_submit(c))
          continue;
        auto t0 = clock_type::now();
        co_await out.submit(std::move(c));
        waited += clock_type::now() - t0;
      }
      producer_done = clock_type::now();
    });
    runner.on_task_complete([&](auto&) { busy_for(callback_cost); });
    auto summary = runner.run();
    auto ms = [](clock_type::duration d) {
      return std::chrono::duration<double, std::milli>(d).count();
    };
    std::printf("{\"q\": %zu, \"n\": %ld, \"workers\": %zu, \"callback_us\": %ld, "
                "\"producer_wait_ms\": %.1f, \"producer_done_ms\": %.1f, \"max_queued\": %zu, "
                "\"peak_items\": %ld, \"job_ms\": %.1f, \"peak_rss_kib\": %ld}\n",
                q, n, workers, static_cast<long>(callback_cost.count()), ms(waited),
                ms(producer_done - start), summary.max_queue_depth, counted::peak,
                ms(summary.elapsed), bench::peak_rss_kib());
  }
  return EXIT_SUCCESS;
}
