// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_TASK_CLOCK_HPP
#define JOBRUNNER_DETAIL_TASK_CLOCK_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define JOBRUNNER_DETAIL_HAS_TSC 1
#else
#define JOBRUNNER_DETAIL_HAS_TSC 0
#endif

namespace jobrunner::detail {

// One read of the time-stamp counter between two steady_clock reads (ns):
// the counter was read at some instant in [before_ns, after_ns].
struct tsc_reading
{
  std::int64_t before_ns = 0;
  std::uint64_t tsc = 0;
  std::int64_t after_ns = 0;
};

// The counter's period in ns per tick from `count` readings taken in order
// over the calibration window, or 0 when they do not give it to within
// `max_error` (then the task clock uses steady_clock).
//
// A reading is only as good as its bracket: a thread preempted between its
// clock read and its counter read (a loaded machine, a sanitizer) leaves a
// wide bracket, and one such reading used blindly skews every task duration
// of the process by a constant factor. So the estimate spans the narrowest
// reading of the first half and the narrowest of the second half; its error
// is at most their half-brackets over the span. Then every reading must agree
// with the estimate to within its own bracket (the counter must keep a
// constant rate against steady_clock).
inline double tsc_period_ns(const tsc_reading* readings, std::size_t count,
                            double max_error = 1e-3) noexcept
{
  if (count < 4)
    return 0;
  auto half_width = [](const tsc_reading& r) {
    return static_cast<double>(r.after_ns - r.before_ns) / 2;
  };
  auto mid = [](const tsc_reading& r) {
    return static_cast<double>(r.before_ns) + static_cast<double>(r.after_ns - r.before_ns) / 2;
  };
  auto narrowest = [&](std::size_t from, std::size_t to) {
    std::size_t best = from;
    for (std::size_t k = from; k < to; ++k)
      if (half_width(readings[k]) < half_width(readings[best]))
        best = k;
    return best;
  };
  for (std::size_t k = 0; k < count; ++k)
    if (readings[k].after_ns < readings[k].before_ns
        || (k > 0 && readings[k].tsc <= readings[k - 1].tsc))
      return 0;
  const auto& a = readings[narrowest(0, count / 2)];
  const auto& b = readings[narrowest(count / 2, count)];
  const double span = mid(b) - mid(a);
  if (!(span > 0))
    return 0;
  const double uncertainty = half_width(a) + half_width(b);
  if (uncertainty > max_error * span)
    return 0;
  const double period = span / static_cast<double>(b.tsc - a.tsc);
  for (std::size_t k = 0; k < count; ++k)
  {
    const auto& r = readings[k];
    const double predicted =
        mid(a) + (static_cast<double>(r.tsc) - static_cast<double>(a.tsc)) * period;
    const double off = predicted > mid(r) ? predicted - mid(r) : mid(r) - predicted;
    if (off > half_width(r) + uncertainty + max_error * span)
      return 0;
  }
  return period;
}

// The clock workers time tasks with: one read per task is on the per-item
// path. std::chrono::steady_clock costs about 21 ns a read on the reference
// machine (vDSO); the x86-64 time-stamp counter about 9 ns
// (benchmarks/clock_bench.cpp). The counter is
// used only where the CPU declares it invariant (constant rate, running in
// every power state); its rate is measured once per process against
// steady_clock, the first time a job starts, from 16 readings over 250 us
// (tsc_period_ns: the best-bracketed ones are kept, the rest must agree;
// at most 0.1% of error, else steady_clock is used).
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
      return __builtin_ia32_rdtsc();
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
      tsc_reading readings[calibration_readings];
      const auto t0 = steady::now();
      for (std::size_t k = 0; k < calibration_readings; ++k)
      {
        // Evenly spaced over the calibration window.
        const auto due = t0
                         + calibration_window * static_cast<long>(k)
                               / static_cast<long>(calibration_readings - 1);
        while (steady::now() < due)
        {}
        readings[k] = read_tsc();
      }
      const double period = tsc_period_ns(readings, calibration_readings);
      if (period > 0)
      {
        ns_per_tick_ = period;
        use_tsc_ = true;
      }
    }
#endif
    ns_per_tick_q32_ = static_cast<std::uint64_t>(ns_per_tick_ * 4294967296.0);
  }

#if JOBRUNNER_DETAIL_HAS_TSC
  static tsc_reading read_tsc() noexcept
  {
    tsc_reading r;
    r.before_ns = steady_ns();
    r.tsc = __builtin_ia32_rdtsc();
    r.after_ns = steady_ns();
    return r;
  }
#endif

  static std::int64_t steady_ns() noexcept
  {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  static constexpr std::size_t calibration_readings = 16;
  static constexpr std::chrono::microseconds calibration_window{250};

  bool use_tsc_ = false;
  double ns_per_tick_ = 1.0;
  std::uint64_t ns_per_tick_q32_ = std::uint64_t{1} << 32;
};

} // namespace jobrunner::detail

#endif
