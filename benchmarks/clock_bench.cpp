// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The cost of one clock read, as a worker pays it per task: steady_clock
// against the runner's task clock (the invariant TSC where the CPU has one).
//
//   clock_bench [READS=10000000]
#include <jobrunner/detail/task_clock.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv)
{
  const long reads = argc > 1 ? std::atol(argv[1]) : 10000000;
  using steady = std::chrono::steady_clock;
  auto per_read = [reads](auto read) {
    unsigned long sink = 0;
    auto t0 = steady::now();
    for (long i = 0; i < reads; ++i)
      sink += static_cast<unsigned long>(read()) & 1U;
    auto t1 = steady::now();
    std::printf("  (sink %lu)\n", sink);
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(reads);
  };
  const auto& clock = jobrunner::detail::task_clock::instance();
  double s = per_read([] { return steady::now().time_since_epoch().count(); });
  double t = per_read([&clock] { return clock.now(); });
  std::printf("steady_clock::now: %.1f ns a read\ntask_clock::now (%s): %.1f ns a read\n", s,
              clock.uses_tsc() ? "TSC" : "steady_clock", t);
  return EXIT_SUCCESS;
}
