// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_RATE_GATE_HPP
#define JOBRUNNER_DETAIL_POLICY_RATE_GATE_HPP

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace jobrunner::detail::policy {

// JobConfig::rate_limit as a generic cell rate algorithm (GCRA), shared by
// all workers: each start reserves the next slot of a schedule spaced
// 1/rate apart, and may run up to burst - 1 slots early. So in any window of
// d seconds at most rate * d + burst tasks start. Lock-free: one
// compare-and-swap per start.
class rate_gate
{
public:
  using clock = std::chrono::steady_clock;

  rate_gate(double per_second, std::size_t burst) noexcept
      : interval_ns_(static_cast<std::int64_t>(1e9 / per_second)),
        tolerance_ns_(interval_ns_ * static_cast<std::int64_t>(burst > 0 ? burst - 1 : 0))
  {}

  // Reserves one start; returns the time it may happen (now or later).
  clock::time_point reserve(clock::time_point now) noexcept
  {
    const std::int64_t t = now.time_since_epoch() / std::chrono::nanoseconds(1);
    std::int64_t tat = tat_.load(std::memory_order_relaxed);
    std::int64_t start = 0;
    std::int64_t next = 0;
    do
    {
      const std::int64_t earliest = tat - tolerance_ns_;
      if (t >= earliest)
      {
        start = t;
        next = (tat > t ? tat : t) + interval_ns_;
      }
      else
      {
        start = earliest;
        next = tat + interval_ns_;
      }
    } while (!tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed));
    return clock::time_point(
        std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(start)));
  }

private:
  std::int64_t interval_ns_;
  std::int64_t tolerance_ns_;
  std::atomic<std::int64_t> tat_{std::numeric_limits<std::int64_t>::min() / 2};
};

} // namespace jobrunner::detail::policy

#endif
