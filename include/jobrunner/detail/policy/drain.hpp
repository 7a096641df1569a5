// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_DRAIN_HPP
#define JOBRUNNER_DETAIL_POLICY_DRAIN_HPP

// JobRunner::drain, the request: whether a drain was asked for, and when its
// grace period ends (the earliest of the deadlines asked for). Pure (the
// caller passes the time) and safe from any thread; the job arms a timer at
// the deadline, which then cancels the job.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

namespace jobrunner::detail::policy {

class drain_request
{
public:
  using clock = std::chrono::steady_clock;

  struct change
  {
    bool first = false;    ///< this call started the drain
    bool deadline = false; ///< this call set or moved the grace deadline earlier
  };

  // A drain at `now`, with an optional grace period (none: no deadline).
  // Later calls can only bring the deadline earlier.
  change request(std::optional<std::chrono::nanoseconds> grace, clock::time_point now) noexcept
  {
    change c;
    c.first = !requested_.exchange(true, std::memory_order_seq_cst);
    if (!grace)
      return c;
    const auto g = grace->count() < 0 ? std::chrono::nanoseconds(0) : *grace;
    const std::int64_t at = saturating_add(ns_of(now), g.count());
    std::int64_t old = deadline_.load(std::memory_order_relaxed);
    while (at < old && !deadline_.compare_exchange_weak(old, at, std::memory_order_acq_rel))
    {}
    c.deadline = at < old;
    return c;
  }

  bool requested() const noexcept { return requested_.load(std::memory_order_seq_cst); }

  // The end of the grace period, if one was asked for.
  std::optional<clock::time_point> deadline() const noexcept
  {
    const auto d = deadline_.load(std::memory_order_acquire);
    if (d == none)
      return std::nullopt;
    return clock::time_point(
        std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(d)));
  }

private:
  static constexpr std::int64_t none = std::numeric_limits<std::int64_t>::max();

  static std::int64_t ns_of(clock::time_point t) noexcept
  {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  static std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept
  {
    return b > none - 1 - a ? none - 1 : a + b;
  }

  std::atomic<bool> requested_{false};
  std::atomic<std::int64_t> deadline_{none};
};

} // namespace jobrunner::detail::policy

#endif
