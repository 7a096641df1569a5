// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Quick start: square 1..1000 with 50 workers, an awaitable task, and both callbacks.
#include <jobrunner/jobrunner.hpp>

#include <chrono>
#include <cstdio>

namespace asio = boost::asio;

int main()
{
  asio::io_context io;
  // The task: any callable taking the item and returning asio::awaitable<R> (or R).
  jobrunner::JobRunner<int, long> runner(io, [](int x) -> asio::awaitable<long> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await t.async_wait(asio::use_awaitable); // stands for real I/O
    co_return long{x} * x;
  });

  long sum = 0;
  runner
      .add_producer([](auto& out) -> asio::awaitable<void> { // any number of producers
        for (int i = 1; i <= 1000; ++i)
          co_await out.submit(i); // waits while the work queue is full
      })
      .on_task_complete([&](auto& r) { // one call per item, never concurrently
        if (r.ok())
          sum += *r.value;
      })
      .on_job_complete([](const jobrunner::JobSummary& s) { // once, last
        std::printf("%llu items in %.3f s, p99 %.2f ms\n",
                    static_cast<unsigned long long>(s.succeeded),
                    std::chrono::duration<double>(s.elapsed).count(),
                    std::chrono::duration<double, std::milli>(s.latency.p99).count());
      });

  runner.run(); // or: co_await runner.async_run(asio::use_awaitable)
  std::printf("sum of squares = %ld\n", sum);
  return sum == 333'833'500 ? 0 : 1;
}
