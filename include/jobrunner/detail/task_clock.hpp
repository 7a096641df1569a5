// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_TASK_CLOCK_HPP
#define JOBRUNNER_DETAIL_TASK_CLOCK_HPP

#include <chrono>
#include <cstdint>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <x86intrin.h>
#define JOBRUNNER_DETAIL_HAS_TSC 1
#else
#define JOBRUNNER_DETAIL_HAS_TSC 0
#endif

namespace jobrunner::detail {

// The clock workers time tasks with: one read per task is on the per-item
// path. std::chrono::steady_clock costs about 21 ns a read on the reference
// machine (vDSO); the x86-64 time-stamp counter about 9 ns
// (benchmarks/clock_bench.cpp). The counter is
// used only where the CPU declares it invariant (constant rate, running in
// every power state); its rate is measured once per process against
// steady_clock, over 250 us (about 0.02% of error), the first time a job
// starts.
class task_clock
{
public:
  using ticks = std::uint64_t;

  static const task_clock& instance()
  {
    static const task_clock the_clock;
    return the_clock;
  }

  ticks now() const noexcept
  {
#if JOBRUNNER_DETAIL_HAS_TSC
    if (use_tsc_)
      return __rdtsc();
#endif
    return static_cast<ticks>(std::chrono::steady_clock::now().time_since_epoch().count());
  }

  std::chrono::nanoseconds to_duration(ticks elapsed) const noexcept
  {
#if JOBRUNNER_DETAIL_HAS_TSC
    // Fixed point (32 fractional bits) in 128-bit arithmetic: no floating
    // point conversion on the per-item path, and no overflow.
    __extension__ using wide = unsigned __int128;
    return std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(
        (static_cast<wide>(elapsed) * ns_per_tick_q32_) >> 32));
#else
    return std::chrono::nanoseconds(
        static_cast<std::chrono::nanoseconds::rep>(static_cast<double>(elapsed) * ns_per_tick_));
#endif
  }

  bool uses_tsc() const noexcept
  {
    return use_tsc_;
  }

private:
  task_clock()
  {
    using steady = std::chrono::steady_clock;
    ns_per_tick_ = std::chrono::duration<double, std::nano>(steady::duration(1)).count();
#if JOBRUNNER_DETAIL_HAS_TSC
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) != 0 && (edx & (1u << 8)) != 0)
    {
      auto t0 = steady::now();
      auto c0 = __rdtsc();
      auto t1 = t0;
      while (t1 - t0 < std::chrono::microseconds(250))
        t1 = steady::now();
      auto c1 = __rdtsc();
      if (c1 > c0)
      {
        ns_per_tick_ = std::chrono::duration<double, std::nano>(t1 - t0).count()
                       / static_cast<double>(c1 - c0);
        use_tsc_ = true;
      }
    }
#endif
    ns_per_tick_q32_ = static_cast<std::uint64_t>(ns_per_tick_ * 4294967296.0);
  }

  bool use_tsc_ = false;
  double ns_per_tick_ = 1.0;
  std::uint64_t ns_per_tick_q32_ = std::uint64_t{1} << 32;
};

} // namespace jobrunner::detail

#endif
