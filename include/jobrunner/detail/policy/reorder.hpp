// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_REORDER_HPP
#define JOBRUNNER_DETAIL_POLICY_REORDER_HPP

// JobConfig::ordered_delivery. Two halves of one rule, "item s starts only
// once s < delivered + window":
// - reorder_window, before a start: a worker holding item s waits (parked,
//   registered here) until the result handler has delivered enough;
// - reorder_buffer, before delivery: results that arrive ahead of the next
//   one wait in a ring of `window` slots, indexed by sequence. The rule
//   guarantees every waiting result a slot of its own.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace jobrunner::detail::policy {

class reorder_window
{
public:
  explicit reorder_window(std::size_t window) noexcept : window_(window) {}

  // True if item `seq` may start; otherwise `waiter` is registered and must
  // wait for its wake (see delivered()).
  bool admits(std::uint64_t seq, std::size_t waiter)
  {
    std::lock_guard lock(mutex_);
    if (seq < delivered_ + window_)
      return true;
    waiters_.emplace_back(seq, waiter);
    return false;
  }

  // `delivered` results are out: wakes each waiter now admitted.
  template <class Wake>
  void delivered(std::uint64_t delivered, Wake&& wake)
  {
    std::lock_guard lock(mutex_);
    delivered_ = delivered;
    const auto bound = delivered_ + window_;
    for (std::size_t k = 0; k < waiters_.size();)
    {
      if (waiters_[k].first < bound)
      {
        wake(waiters_[k].second);
        waiters_[k] = waiters_.back();
        waiters_.pop_back();
      }
      else
        ++k;
    }
  }

private:
  std::mutex mutex_;
  const std::size_t window_;
  std::uint64_t delivered_ = 0;
  std::vector<std::pair<std::uint64_t, std::size_t>> waiters_;
};

// `Result` has a `sequence`; it need only be move-constructible.
template <class Result>
class reorder_buffer
{
public:
  explicit reorder_buffer(std::size_t window) : ring_(window) {}

  // Takes `r` and delivers, in sequence, every result that is now next.
  template <class Deliver>
  void push(Result&& r, Deliver&& deliver)
  {
    if (r.sequence != next_)
    {
      auto& slot = ring_[r.sequence % ring_.size()];
      slot.reset();
      slot.emplace(std::move(r));
      return;
    }
    deliver(r);
    ++next_;
    for (auto* slot = &at(next_); *slot && (*slot)->sequence == next_; slot = &at(next_))
    {
      deliver(**slot);
      slot->reset();
      ++next_;
    }
  }

  // The number of results delivered in sequence so far.
  std::uint64_t next() const noexcept { return next_; }

  // At the end: delivers what is left, in sequence. Every item taken has a
  // result, so nothing should be left; should a sequence ever be missing,
  // the rest still goes out, in order.
  template <class Deliver>
  void flush(Deliver&& deliver)
  {
    std::vector<Result*> left;
    for (auto& slot : ring_)
      if (slot)
        left.push_back(&*slot);
    std::sort(left.begin(), left.end(),
              [](const Result* x, const Result* y) { return x->sequence < y->sequence; });
    for (auto* r : left)
      deliver(*r);
    for (auto& slot : ring_)
      slot.reset();
  }

private:
  std::optional<Result>& at(std::uint64_t seq) noexcept { return ring_[seq % ring_.size()]; }

  std::vector<std::optional<Result>> ring_;
  std::uint64_t next_ = 0;
};

} // namespace jobrunner::detail::policy

#endif
