// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_RETRY_BUDGET_HPP
#define JOBRUNNER_DETAIL_POLICY_RETRY_BUDGET_HPP

// JobConfig::retry_budget, pure (the caller passes the time; job_state
// wraps it in a mutex): over a sliding window of `window` (ten buckets),
// retries may add at most `ratio` of the first attempts started in it, plus
// `min_per_second` a second (the floor, so that a job with few items can
// still retry). A retry the budget refuses is not made: the item's last
// attempt is its result. The same rule as tower's and Envoy's retry budgets.

#include <jobrunner/config.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

namespace jobrunner::detail::policy {

class retry_budget
{
public:
  using clock = std::chrono::steady_clock;

  explicit retry_budget(const JobConfig::RetryBudget& c)
      : ratio_(c.ratio),
        bucket_(std::max<clock::duration>(
            std::chrono::duration_cast<clock::duration>(c.window) / buckets, clock::duration(1))),
        reserve_(c.min_per_second * std::chrono::duration<double>(c.window).count())
  {}

  // A first attempt started at `now`.
  void on_first_attempt(clock::time_point now) noexcept
  {
    advance(now);
    ++firsts_[current_];
  }

  // Whether a retry may start at `now`; if so it is counted.
  bool try_retry(clock::time_point now) noexcept
  {
    advance(now);
    std::uint64_t firsts = 0, retries = 0;
    for (std::size_t i = 0; i < buckets; ++i)
    {
      firsts += firsts_[i];
      retries += retries_[i];
    }
    if (static_cast<double>(retries) + 1 > ratio_ * static_cast<double>(firsts) + reserve_)
      return false;
    ++retries_[current_];
    return true;
  }

private:
  static constexpr std::size_t buckets = 10;

  // Moves the current bucket to `now`, emptying the buckets it passes.
  void advance(clock::time_point now) noexcept
  {
    const std::int64_t index = now.time_since_epoch() / bucket_;
    if (!started_)
    {
      started_ = true;
      index_ = index;
      return;
    }
    if (index <= index_)
      return; // the same bucket (or a clock read out of order across threads)
    for (std::int64_t k = index_ + 1;
         k <= index && k <= index_ + static_cast<std::int64_t>(buckets); ++k)
    {
      current_ = (current_ + 1) % buckets;
      firsts_[current_] = 0;
      retries_[current_] = 0;
    }
    index_ = index;
  }

  double ratio_;
  clock::duration bucket_;
  double reserve_;
  std::array<std::uint64_t, buckets> firsts_{};
  std::array<std::uint64_t, buckets> retries_{};
  std::size_t current_ = 0;
  std::int64_t index_ = 0;
  bool started_ = false;
};

} // namespace jobrunner::detail::policy

#endif
