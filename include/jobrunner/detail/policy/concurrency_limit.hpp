// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_CONCURRENCY_LIMIT_HPP
#define JOBRUNNER_DETAIL_POLICY_CONCURRENCY_LIMIT_HPP

// JobConfig::adaptive_concurrency: a limit on the number of workers that
// take items. Worker w (counted from 0) takes items while w < limit; the
// others park before taking one (so a parked worker never holds an item).
// The limit is multiplied by `decrease_factor` on a timeout or a push-back
// of a task that started after the last cut: the tasks already in flight at
// a cut were started under the old limit, and their timeouts say nothing
// about the new one (as TCP cuts its window once per round trip). It grows
// by AIMD (one per `limit` successes; one per `limit` rounds between 0.9
// times the limit the last overload cut and that limit) or by the latency
// gradient (gradient_limit.hpp), and only from tasks that started while the limit
// bound: with at least three quarters of the limit in flight, counting the
// task itself (so a rate limit or a slow producer, which keep the workers
// idle, do not let it drift up).
// A cut by the gradient starts a new epoch too: the samples of the tasks
// in flight then are ignored (they measured the old limit), and so are those
// of tasks started with more than the limit in flight.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/policy/gradient_limit.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace jobrunner::detail::policy {

// What a task noted when it started (concurrency_limit::start).
struct limit_ticket
{
  std::uint64_t epoch = 0; // the cuts before it started
  bool binding = false;    // the limit bound when it started
  bool within = true;      // no more than the limit in flight (or a round after the cut)
  std::size_t level = 0;   // the tasks in flight when it started, itself included
};

// How an attempt ended, for the limit.
enum class limit_outcome
{
  success,  // a latency sample; may grow the limit
  overload, // a timeout or a push-back; may cut it
  other     // a failure or a cancellation: no signal
};

class concurrency_limit
{
public:
  concurrency_limit(std::size_t workers, const JobConfig::AdaptiveConcurrency& c)
      : max_(static_cast<double>(workers)), min_(static_cast<double>(c.min_workers)),
        factor_(c.decrease_factor),
        limit_(static_cast<double>(c.initial_workers != 0 ? c.initial_workers : workers)),
        parked_(workers, false)
  {
    if (c.algorithm == JobConfig::AdaptiveConcurrency::algorithm_kind::gradient)
    {
      gradient_limit::params p;
      p.min = min_;
      p.max = max_;
      p.initial = limit_;
      p.smoothing = c.smoothing;
      p.tolerance = c.tolerance;
      p.queue_allowance = c.queue_allowance;
      p.short_window = c.short_window;
      p.long_window = c.long_window;
      gradient_.emplace(p);
    }
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

  // A task starts: it counts as in flight until finish().
  limit_ticket start()
  {
    std::lock_guard lock(mutex_);
    ++in_flight_;
    ++starts_since_cut_;
    // After a round of starts, a task left from before the cut (a slow one,
    // no timeout) no longer makes the starts stale: it could hold the
    // gradient still for as long as it runs.
    const bool within = in_flight_ <= current() || starts_since_cut_ > current();
    return {epoch(), binds(in_flight_, current()), within, in_flight_};
  }

  // "Near the limit": at least three quarters of it in flight.
  static constexpr bool binds(std::size_t in_flight, std::size_t limit) noexcept
  {
    return in_flight * 4 >= limit * 3;
  }

  // A task started with `t` ended; `latency`: how long it ran.
  template <class Wake>
  void finish(const limit_ticket& t, limit_outcome outcome, std::chrono::nanoseconds latency,
              Wake&& wake)
  {
    std::lock_guard lock(mutex_);
    if (in_flight_ != 0)
      --in_flight_;
    if (outcome == limit_outcome::success)
    {
      if (gradient_)
      {
        const double before = limit_;
        // Fresh: started after the last cut, with no more than the limit in
        // flight (right after a cut the tasks started above the new limit
        // still run, so the next starts still meet the old load).
        limit_ = gradient_->on_sample(latency, t.binding, t.epoch == epoch() && t.within, t.level);
        if (limit_ < before) // a cut: the tasks in flight measured the old limit
          new_epoch();
      }
      else if (t.binding)
      {
        limit_ = std::min(max_, limit_ + aimd_step(limit_, cut_from_));
        // A task started before the last cut measured the old limit: its
        // success does not end the overload the cut answered.
        grew_ = grew_ || t.epoch == epoch();
      }
      else
        return;
    }
    else if (outcome == limit_outcome::overload && t.epoch == epoch())
    {
      // A cut before any growth since the last one is the same overload
      // (the queue it built drains): the first cut's limit is what overloaded.
      if (grew_ || cut_from_ == 0)
        cut_from_ = limit_;
      grew_ = false;
      limit_ = gradient_ ? gradient_->on_overload(factor_) : std::max(min_, limit_ * factor_);
      new_epoch();
    }
    else
      return;
    update(wake);
  }

  // AIMD's growth per success at `limit`, `cut_from` being the limit the
  // last overload cut (0: none yet; of a series of cuts with no growth
  // between, the first): one per round of `limit` successes, but one per
  // `limit` rounds between 0.9 x `cut_from` and `cut_from`, so that it
  // comes back quickly near the limit that overloaded, then approaches it
  // slowly (overshooting it, and halving, rarely). Above it, the service
  // changed: one per round again.
  static double aimd_step(double limit, double cut_from) noexcept
  {
    const bool cautious = limit >= caution * cut_from && limit <= cut_from;
    return cautious ? 1.0 / (limit * limit) : 1.0 / limit;
  }

  // The share of the last overloaded limit from which growth is cautious.
  static constexpr double caution = 0.9;

  // The number of cuts so far.
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_relaxed); }

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
  void new_epoch() noexcept
  {
    epoch_.store(epoch() + 1, std::memory_order_relaxed);
    starts_since_cut_ = 0;
  }

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
  double cut_from_ = 0;                    // the limit the last overload cut; 0: none yet
  bool grew_ = false;                      // AIMD grew since the last cut
  std::optional<gradient_limit> gradient_; // algorithm::gradient; else AIMD
  std::size_t in_flight_ = 0;              // started, not finished
  std::size_t starts_since_cut_ = 0;       // starts in this epoch
  std::atomic<std::uint64_t> epoch_{0};
  bool input_over_ = false;
  std::vector<bool> parked_;
  std::atomic<std::size_t> current_{0};
  std::atomic<std::size_t> lowest_{0};
};

} // namespace jobrunner::detail::policy

#endif
