// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_DISPATCH_GATE_HPP
#define JOBRUNNER_DETAIL_POLICY_DISPATCH_GATE_HPP

// Before a start: when may the next task start? Two shared policies answer,
// a server push-back pause (`retry_after`: nothing starts before its end)
// and the rate limit (JobConfig::rate_limit: a GCRA schedule). Pure: the
// caller passes the time; the worker waits for the answer.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/policy/rate_gate.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace jobrunner::detail::policy {

class dispatch_gate
{
public:
  using clock = std::chrono::steady_clock;

  explicit dispatch_gate(const JobConfig& config)
  {
    if (config.rate_limit.per_second > 0)
      rate_.emplace(config.rate_limit.per_second, config.rate_limit.burst);
  }

  // The end of the push-back pause (0: never paused). One relaxed load: the
  // check every start makes, even with no policy set.
  std::int64_t paused_until() const noexcept
  {
    return paused_until_.load(std::memory_order_relaxed);
  }

  // Whether a start may have to wait at all.
  bool active() const noexcept { return rate_ || paused_until() != 0; }

  // The time the next task may start, given `now`: the end of the pause
  // `paused` (as read with paused_until()), then the next rate slot, which
  // this reserves.
  clock::time_point start_time(clock::time_point now, std::int64_t paused) noexcept
  {
    auto at = clock::time_point(
        std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(paused)));
    if (at < now)
      at = now;
    if (rate_)
      at = rate_->reserve(at);
    return at;
  }

  // A push-back at `now`: no start before now + delay. A later push-back
  // extends the pause, never shortens it; `paused_total` counts the time
  // covered by pauses once. Returns true if this started a pause (dispatch
  // was not paused at `now`).
  bool pause(clock::time_point now, std::chrono::nanoseconds delay) noexcept
  {
    const std::int64_t t = now.time_since_epoch() / std::chrono::nanoseconds(1);
    const std::int64_t until = t + delay.count();
    std::int64_t old = paused_until_.load(std::memory_order_relaxed);
    while (until > old
           && !paused_until_.compare_exchange_weak(old, until, std::memory_order_relaxed))
    {}
    if (until > old)
      paused_ns_.fetch_add(until - (old > t ? old : t), std::memory_order_relaxed);
    return until > old && old <= t;
  }

  // True once for each pause that has ended by `now_ns` (`paused` as read
  // with paused_until()): the caller reports its end (an event).
  bool claim_end(std::int64_t paused, std::int64_t now_ns) noexcept
  {
    if (paused == 0 || paused > now_ns)
      return false;
    std::int64_t seen = ended_.load(std::memory_order_relaxed);
    while (seen < paused && !ended_.compare_exchange_weak(seen, paused, std::memory_order_relaxed))
    {}
    return seen < paused;
  }

  std::chrono::nanoseconds paused_total() const noexcept
  {
    return std::chrono::nanoseconds(paused_ns_.load(std::memory_order_relaxed));
  }

private:
  std::optional<rate_gate> rate_;
  // steady_clock, ns since its epoch.
  std::atomic<std::int64_t> paused_until_{0};
  std::atomic<std::int64_t> paused_ns_{0};
  std::atomic<std::int64_t> ended_{0}; // the last pause end reported
};

} // namespace jobrunner::detail::policy

#endif
