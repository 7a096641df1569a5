// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_CONCURRENCY_LIMIT_HPP
#define JOBRUNNER_DETAIL_POLICY_CONCURRENCY_LIMIT_HPP

// JobConfig::adaptive_concurrency: an AIMD limit on the number of workers
// that take items. Worker w (counted from 0) takes items while w < limit;
// the others park before taking one (so a parked worker never holds an
// item). The limit grows by one per `limit` successes and is multiplied by
// `decrease_factor` on a timeout or a push-back of a task that started after
// the last cut: the tasks already in flight at a cut were started under the
// old limit, and their timeouts say nothing about the new one (as TCP cuts
// its window once per round trip).

#include <jobrunner/config.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace jobrunner::detail::policy {

class concurrency_limit
{
public:
  concurrency_limit(std::size_t workers, const JobConfig::AdaptiveConcurrency& c)
      : max_(static_cast<double>(workers)), min_(static_cast<double>(c.min_workers)),
        factor_(c.decrease_factor),
        limit_(static_cast<double>(c.initial_workers != 0 ? c.initial_workers : workers)),
        parked_(workers, false)
  {
    current_.store(static_cast<std::size_t>(limit_), std::memory_order_relaxed);
    lowest_.store(current(), std::memory_order_relaxed);
  }

  // True if worker `w` may take an item; otherwise it is registered as
  // parked and must wait until `wake(w)` is called.
  bool admit_or_park(std::size_t w)
  {
    std::lock_guard lock(mutex_);
    if (input_over_ || w < current())
      return true;
    parked_[w] = true;
    return false;
  }

  template <class Wake>
  void on_success(Wake&& wake)
  {
    std::lock_guard lock(mutex_);
    limit_ = std::min(max_, limit_ + 1.0 / limit_);
    update(wake);
  }

  // The number of cuts so far: a task notes it when it starts.
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_relaxed); }

  template <class Wake>
  void on_overload(std::uint64_t started_in_epoch, Wake&& wake)
  {
    std::lock_guard lock(mutex_);
    if (started_in_epoch != epoch())
      return;
    limit_ = std::max(min_, limit_ * factor_);
    epoch_.store(epoch() + 1, std::memory_order_relaxed);
    update(wake);
  }

  // No more items will come: every parked worker must go and take its end
  // marker.
  template <class Wake>
  void end_of_input(Wake&& wake)
  {
    std::lock_guard lock(mutex_);
    input_over_ = true;
    for (std::size_t w = 0; w < parked_.size(); ++w)
      if (parked_[w])
      {
        parked_[w] = false;
        wake(w);
      }
  }

  std::size_t current() const noexcept { return current_.load(std::memory_order_relaxed); }
  std::size_t lowest() const noexcept { return lowest_.load(std::memory_order_relaxed); }

private:
  template <class Wake>
  void update(Wake& wake)
  {
    const auto before = current();
    const auto now = static_cast<std::size_t>(limit_);
    current_.store(now, std::memory_order_relaxed);
    if (now < lowest())
      lowest_.store(now, std::memory_order_relaxed);
    for (std::size_t w = before; w < now && w < parked_.size(); ++w)
      if (parked_[w])
      {
        parked_[w] = false;
        wake(w);
      }
  }

  std::mutex mutex_;
  const double max_;
  const double min_;
  const double factor_;
  double limit_;
  std::atomic<std::uint64_t> epoch_{0};
  bool input_over_ = false;
  std::vector<bool> parked_;
  std::atomic<std::size_t> current_{0};
  std::atomic<std::size_t> lowest_{0};
};

} // namespace jobrunner::detail::policy

#endif
