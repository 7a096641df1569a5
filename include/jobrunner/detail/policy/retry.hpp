// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_RETRY_HPP
#define JOBRUNNER_DETAIL_POLICY_RETRY_HPP

// JobConfig::retry: how long an item waits before its next attempt (pure),
// and the queue where it waits off the workers.
//
// The queue: an item waiting for its retry sits in one of `max_waiting`
// slots with a timer; when the timer fires (or the job is cancelled) the
// slot joins the ready queue and `on_due` runs, which sends a "retry due"
// message into the work queue; the worker that receives it takes the record
// back (take()). The message is sent after the slot is queued and the end
// markers only after the record's final result, so FIFO order delivers
// every "retry due" before them.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace jobrunner::detail::policy {

// The bound of the wait before attempt n + 1: min(max_backoff,
// initial_backoff * multiplier^(n-1)).
inline double backoff_cap_ns(const JobConfig::Retry& policy, unsigned failed_attempts) noexcept
{
  double cap = static_cast<double>(policy.initial_backoff.count());
  const double most = static_cast<double>(policy.max_backoff.count());
  for (unsigned k = 1; k < failed_attempts && cap < most; ++k)
    cap *= policy.multiplier;
  return std::min(cap, most);
}

// Full jitter: `u` in [0, 1) picks the wait in [0, cap).
inline std::chrono::nanoseconds backoff(const JobConfig::Retry& policy, unsigned failed_attempts,
                                        double u) noexcept
{
  return std::chrono::nanoseconds(
      static_cast<std::int64_t>(u * backoff_cap_ns(policy, failed_attempts)));
}

// A uniform draw in [0, 1) for backoff(): SplitMix64 over a per-thread
// state seeded from the clock and the state's address. Jitter needs spread,
// not secrecy, and <random> would cost every translation unit ~0.4 s.
inline double jitter() noexcept
{
  thread_local std::uint64_t state =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())
      ^ static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&state));
  std::uint64_t z = (state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53; // 53 random bits: [0, 1)
}

template <class Record>
class retry_queue
{
public:
  // `executor_for()` gives each slot's timer its executor; `on_due()` runs
  // once per record that becomes due; `cancelled` is the job's flag.
  template <class ExecutorFor>
  void create(std::size_t slots, ExecutorFor&& executor_for, std::function<void()> on_due,
              const std::atomic<bool>& cancelled)
  {
    on_due_ = std::move(on_due);
    cancelled_ = &cancelled;
    records_ = std::make_unique<Record[]>(slots);
    timers_.reserve(slots);
    free_.reserve(slots);
    for (std::size_t i = 0; i < slots; ++i)
    {
      timers_.emplace_back(executor_for());
      free_.push_back(slots - 1 - i);
    }
    ready_to_cancel_.store(true, std::memory_order_seq_cst);
  }

  // Moves `record` into a free slot and starts its wait; false, and
  // `record` untouched, when every slot is taken.
  bool defer(Record& record, std::chrono::nanoseconds delay, std::shared_ptr<const void> alive)
  {
    std::size_t i = 0;
    {
      std::lock_guard lock(mutex_);
      if (free_.empty())
        return false;
      i = free_.back();
      free_.pop_back();
    }
    records_[i].reset();
    records_[i].emplace(std::move(*record));
    record.reset();
    // A cancel_all() that ran before this wait started is seen here.
    asio::post(timers_[i].get_executor(), [this, i, delay, alive = std::move(alive)] {
      if (cancelled_->load(std::memory_order_acquire))
        return due(i);
      timers_[i].expires_after(delay);
      timers_[i].async_wait([this, i, alive](error_code) { due(i); });
    });
    return true;
  }

  // The record whose retry is due. There is one on_due() per queued slot and
  // only a worker that got its message takes from here, so it is never empty
  // then; an empty record is handled anyway.
  Record take()
  {
    Record record;
    std::lock_guard lock(mutex_);
    if (ready_.empty())
      return record;
    const auto i = ready_.front();
    ready_.pop_front();
    record.emplace(std::move(*records_[i]));
    records_[i].reset();
    free_.push_back(i);
    return record;
  }

  // A cancelled job does not wait for its retries: each waiting item becomes
  // due at once (and is reported with its last attempt's outcome).
  void cancel_all(const std::shared_ptr<const void>& alive) noexcept
  {
    if (!ready_to_cancel_.load(std::memory_order_seq_cst))
      return;
    for (std::size_t i = 0; i < timers_.size(); ++i)
    {
      try
      {
        asio::post(timers_[i].get_executor(), [this, i, alive] { timers_[i].cancel(); });
      }
      catch (...)
      {
        // Only allocation can fail: that item then waits out its backoff.
      }
    }
  }

  bool created() const noexcept { return ready_to_cancel_.load(std::memory_order_seq_cst); }

private:
  void due(std::size_t i)
  {
    {
      std::lock_guard lock(mutex_);
      ready_.push_back(i);
    }
    on_due_();
  }

  std::function<void()> on_due_;
  const std::atomic<bool>* cancelled_ = nullptr;
  std::unique_ptr<Record[]> records_;
  std::vector<asio::steady_timer> timers_;
  std::mutex mutex_;
  std::vector<std::size_t> free_;
  std::deque<std::size_t> ready_;
  std::atomic<bool> ready_to_cancel_{false};
};

} // namespace jobrunner::detail::policy

#endif
