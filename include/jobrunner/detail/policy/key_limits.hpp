// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_KEY_LIMITS_HPP
#define JOBRUNNER_DETAIL_POLICY_KEY_LIMITS_HPP

// JobConfig::per_key (issue 14), the pure decisions: may an item of a key
// start now; which item set aside may go next, and when; when a key's state
// is released. Not thread-safe (key_area.hpp locks around it); no clock of
// its own (the caller passes `now`), so tests drive it with a manual one.
//
// Per key: `running` counts the items started plus the one released from
// the set-aside FIFO and on its way to a worker (`moving`, at most one, so
// that the FIFO's order is kept); the FIFO holds the slots (key_area's
// indices) of the items set aside, linked through `next_`; `tat` is the
// key's GCRA schedule (as policy/rate_gate.hpp, one per key). A key is
// released once nothing runs, nothing waits and its schedule is back to
// neutral (tat <= now): at once when its last task ends, else (a rate still
// owed) by the sweep that runs when `max_keys` keys are tracked.

#include <jobrunner/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

namespace jobrunner::detail::policy {

// The key of `item` by `fn` (JobRunner::key_by); none, or one that throws:
// the empty key.
template <class Fn, class Item>
std::string key_by_fn(const Fn& fn, const Item& item) noexcept
{
  try
  {
    return fn ? fn(item) : std::string();
  }
  catch (...)
  {
    return {};
  }
}

class key_limits
{
public:
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

  // A set-aside item that may go: `slot` (none: nothing) at `at`.
  struct release
  {
    std::size_t slot = none;
    clock::time_point at{};
  };

  enum class start
  {
    go,    // a slot of the key is taken and a start reserved: run it
    aside, // set it aside (set_aside), behind the key's others
    wait,  // `max_keys` keys are tracked: ask again at retry_at()
  };

  // `slots`: the most items set aside at once (their indices are < slots).
  key_limits(const JobConfig::PerKey& c, std::size_t slots, std::size_t max_keys)
      : cap_(c.max_in_flight),
        interval_ns_(c.per_second > 0 ? static_cast<std::int64_t>(1e9 / c.per_second) : 0),
        tolerance_ns_(interval_ns_ * static_cast<std::int64_t>(c.burst > 0 ? c.burst - 1 : 0)),
        max_keys_(max_keys), next_(slots, none)
  {}

  // A fresh item of `key` at `now`.
  start try_start(const std::string& key, clock::time_point now)
  {
    auto it = keys_.find(key);
    if (it == keys_.end())
    {
      if (keys_.size() >= max_keys_ && !make_room(now))
        return start::wait;
      it = keys_.emplace(key, state{}).first;
      peak_ = std::max(peak_, keys_.size());
    }
    auto& k = it->second;
    if (k.head != none || k.moving > 0 || (cap_ != 0 && k.running >= cap_)
        || (interval_ns_ != 0 && ns(now) < k.tat - tolerance_ns_))
      return start::aside;
    ++k.running;
    reserve(k, ns(now));
    return start::go;
  }

  // When try_start said wait: the earliest time an idle key's state is released.
  clock::time_point retry_at() const noexcept { return retry_at_; }

  // The item in `slot` waits behind the key's others (after try_start said aside).
  void set_aside(const std::string& key, std::size_t slot)
  {
    auto& k = keys_.at(key);
    next_[slot] = none;
    if (k.tail == none)
      k.head = slot;
    else
      next_[k.tail] = slot;
    k.tail = slot;
  }

  // The key's first item set aside, if it may go: its slot is taken and
  // its start reserved at `at` (now, or later under the key's rate).
  release next(const std::string& key, clock::time_point now)
  {
    auto it = keys_.find(key);
    if (it == keys_.end())
      return {};
    auto& k = it->second;
    if (k.head == none || k.moving > 0 || (cap_ != 0 && k.running >= cap_))
      return {};
    const auto slot = k.head;
    k.head = next_[slot];
    if (k.head == none)
      k.tail = none;
    ++k.running;
    ++k.moving;
    const auto at = std::max(ns(now), interval_ns_ != 0 ? k.tat - tolerance_ns_ : ns(now));
    reserve(k, at);
    return {slot, clock::time_point(
                      std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(at)))};
  }

  // A worker took the released item of `key`: the next may be released.
  release taken(const std::string& key, clock::time_point now)
  {
    auto& k = keys_.at(key);
    --k.moving;
    return next(key, now);
  }

  // A task of `key` ended (its final result, or set aside for a retry).
  release finish(const std::string& key, clock::time_point now)
  {
    auto it = keys_.find(key);
    if (it == keys_.end())
      return {};
    --it->second.running;
    const auto r = next(key, now);
    if (idle(it->second, ns(now)))
      keys_.erase(it);
    return r;
  }

  // A cancelled job: every item set aside goes now (each as if released).
  std::vector<std::size_t> release_all()
  {
    std::vector<std::size_t> out;
    for (auto& [key, k] : keys_)
      for (; k.head != none; k.head = next_[k.head])
      {
        out.push_back(k.head);
        ++k.running;
        ++k.moving;
      }
    for (auto& [key, k] : keys_)
      k.tail = none;
    return out;
  }

  std::size_t tracked() const noexcept { return keys_.size(); }
  std::size_t peak() const noexcept { return peak_; } // the most keys tracked at once

private:
  struct state
  {
    std::size_t running = 0; // started, or released (moving)
    std::size_t moving = 0;  // released, not yet taken by a worker (0 or 1)
    std::size_t head = none; // the FIFO of set-aside slots
    std::size_t tail = none;
    std::int64_t tat = std::numeric_limits<std::int64_t>::min() / 2; // GCRA schedule, ns
  };

  static std::int64_t ns(clock::time_point t) noexcept
  {
    return t.time_since_epoch() / std::chrono::nanoseconds(1);
  }
  void reserve(state& k, std::int64_t t) const noexcept
  {
    if (interval_ns_ != 0)
      k.tat = std::max(k.tat, t) + interval_ns_;
  }
  bool idle(const state& k, std::int64_t now) const noexcept
  {
    return k.running == 0 && k.head == none && (interval_ns_ == 0 || k.tat <= now);
  }
  // Releases the idle keys; false if none was (retry_at() says when one will be).
  bool make_room(clock::time_point now)
  {
    const auto t = ns(now);
    std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
    for (auto it = keys_.begin(); it != keys_.end();)
      if (idle(it->second, t))
        it = keys_.erase(it);
      else
      {
        if (it->second.running == 0 && it->second.head == none)
          earliest = std::min(earliest, it->second.tat);
        ++it;
      }
    if (keys_.size() < max_keys_)
      return true;
    retry_at_ =
        earliest != std::numeric_limits<std::int64_t>::max() ? clock::time_point(
            std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(earliest)))
                                                             : now + std::chrono::milliseconds(1);
    return false;
  }

  std::size_t cap_;
  std::int64_t interval_ns_;
  std::int64_t tolerance_ns_;
  std::size_t max_keys_;
  std::vector<std::size_t> next_;
  std::unordered_map<std::string, state> keys_;
  std::size_t peak_ = 0;
  clock::time_point retry_at_{};
};

} // namespace jobrunner::detail::policy

#endif
