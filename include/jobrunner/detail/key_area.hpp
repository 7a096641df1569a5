// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_KEY_AREA_HPP
#define JOBRUNNER_DETAIL_KEY_AREA_HPP

// JobConfig::per_key (issue 14), the I/O around policy/key_limits.hpp: where
// the items of saturated keys wait aside, and how they come back. As the
// retry queue (policy/retry.hpp): a released item joins the ready queue and
// `on_ready` sends a "key due" message into the work queue (never closed,
// asio#1236); a worker that receives one takes a ready record (or none: a
// worker parked over the bound may have taken it first). Each message is
// `announce`d under the lock, before its record can be taken: it holds the
// input open until a worker gets it, so none is on its way when the end
// markers are sent. A record released for later (the key's rate) waits on
// its slot's timer. A worker whose item went aside beyond `key_slots()`
// parks until the area is within it or a record is ready, which it takes
// itself: a ready record never waits while every worker is parked.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/policy/key_limits.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace jobrunner::detail {

template <class Record>
class key_area
{
public:
  using clock = std::chrono::steady_clock;
  using start = policy::key_limits::start;
  using alive_ptr = std::shared_ptr<const void>;

  // `on_ready(n)` sends n "key due" messages; `wake(w)` ends worker w's park.
  template <class ExecutorFor>
  key_area(const JobConfig& c, ExecutorFor&& executor_for, std::function<void()> announce,
           std::function<void(std::size_t)> on_ready, std::function<void(std::size_t)> wake,
           const std::atomic<bool>& cancelled)
      : bound_(c.key_slots()), limits_(c.per_key, c.key_slots() + c.workers, c.key_limit()),
        records_(std::make_unique<Record[]>(c.key_slots() + c.workers)),
        keys_(c.key_slots() + c.workers), running_(c.workers), parked_(c.workers, false),
        announce_(std::move(announce)), on_ready_(std::move(on_ready)), wake_(std::move(wake)),
        cancelled_(&cancelled), executor_(executor_for())
  {
    const auto slots = c.key_slots() + c.workers;
    timers_.reserve(slots);
    for (std::size_t i = 0; i < slots; ++i)
    {
      timers_.emplace_back(executor_for());
      free_.push_back(slots - 1 - i);
    }
  }

  struct admission
  {
    start kind = start::go;
    clock::time_point retry_at{}; // with start::wait
  };

  // Worker `w`'s fresh record of `key`: go, wait (too many keys), or aside.
  admission admit(std::size_t w, std::string key, Record& record, const alive_ptr& alive)
  {
    std::size_t ready = 0;
    admission a;
    {
      std::lock_guard lock(mutex_);
      const auto now = clock::now();
      if (cancelled_->load(std::memory_order_acquire))
        return a; // go, outside the key's count (finish() releases nothing)
      a.kind = limits_.try_start(key, now);
      if (a.kind == start::go)
        running_[w] = std::move(key);
      else if (a.kind == start::wait)
        a.retry_at = limits_.retry_at();
      else
      {
        const auto slot = free_.back(); // never empty: key_slots() + one per worker
        free_.pop_back();
        ++waiting_;
        records_[slot].emplace(std::move(*record));
        record.reset();
        limits_.set_aside(key, slot);
        keys_[slot] = std::move(key);
        ready = act(limits_.next(keys_[slot], now), alive);
      }
      note_tracked();
    }
    notify(ready);
    return a;
  }

  enum class settled
  {
    took,  // `record` is a ready record, worker w's to run (the key's slot is w's)
    go_on, // none ready: take the next item
    park,  // none ready, w's item just went aside and the area is over its bound
  };

  // Worker `w` takes a ready record or, if `after_aside` (its item just went
  // aside) and the area is over its bound, parks, in one step (on w's
  // executor: a wake is never lost). So a worker leaves without a record only
  // within the bound: the slots (key_slots() + one per worker) suffice.
  settled take(std::size_t w, Record& record, const alive_ptr& alive, bool after_aside = false)
  {
    std::size_t ready = 0;
    {
      std::lock_guard lock(mutex_);
      if (ready_.empty())
      {
        parked_[w] = after_aside && waiting_ > bound_ && !cancelled_->load();
        return parked_[w] ? settled::park : settled::go_on;
      }
      const auto slot = ready_.front();
      ready_.pop_front();
      record.emplace(std::move(*records_[slot]));
      records_[slot].reset();
      running_[w] = std::move(keys_[slot]);
      free_.push_back(slot);
      if (waiting_-- == bound_ + 1)
        wake_parked();
      ready = act(limits_.taken(*running_[w], clock::now()), alive);
      note_tracked();
    }
    notify(ready);
    return settled::took;
  }

  // Worker `w`'s task ended (final result, or set aside for a retry).
  void finish(std::size_t w, const alive_ptr& alive)
  {
    std::size_t ready = 0;
    {
      std::lock_guard lock(mutex_);
      if (!running_[w])
        return;
      ready = act(limits_.finish(*running_[w], clock::now()), alive);
      running_[w].reset();
      note_tracked();
    }
    notify(ready);
  }

  // A cancelled job: every item set aside is ready at once (and reported).
  void cancel_all(const alive_ptr& alive) noexcept
  {
    try
    {
      asio::post(executor_, [this, alive] {
        std::size_t ready = 0;
        {
          std::lock_guard lock(mutex_);
          for (const auto slot : limits_.release_all())
            ready += act({slot, clock::time_point{}}, alive);
          wake_parked();
        }
        notify(ready);
      });
      for (auto& t : timers_)
        asio::post(t.get_executor(), [&t, alive] { t.cancel(); });
    }
    catch (...) // only allocation can fail: those items then wait for their keys
    {}
  }

  std::size_t tracked() const noexcept { return tracked_.load(std::memory_order_relaxed); }
  std::size_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }

private:
  // Under the lock: a released record joins the ready queue now (returns 1)
  // or when its slot's timer fires (or the job is cancelled).
  std::size_t act(policy::key_limits::release r, const alive_ptr& alive)
  {
    if (r.slot == policy::key_limits::none)
      return 0;
    if (r.at <= clock::now())
      return make_ready(r.slot);
    const auto slot = r.slot;
    asio::post(timers_[slot].get_executor(), [this, slot, at = r.at, alive] {
      if (cancelled_->load(std::memory_order_acquire))
        return due(slot);
      timers_[slot].expires_at(at);
      timers_[slot].async_wait([this, slot, alive](error_code) { due(slot); });
    });
    return 0;
  }
  void due(std::size_t slot)
  {
    std::unique_lock lock(mutex_);
    make_ready(slot);
    lock.unlock();
    notify(1);
  }
  std::size_t make_ready(std::size_t slot) // announced first: see the top
  {
    announce_();
    ready_.push_back(slot);
    wake_parked();
    return 1;
  }
  void wake_parked()
  {
    for (std::size_t w = 0; w < parked_.size(); ++w)
      if (parked_[w])
      {
        parked_[w] = false;
        wake_(w);
      }
  }
  void notify(std::size_t ready)
  {
    if (ready != 0)
      on_ready_(ready);
  }
  void note_tracked() noexcept
  {
    tracked_.store(limits_.tracked(), std::memory_order_relaxed);
    peak_.store(limits_.peak(), std::memory_order_relaxed);
  }

  std::size_t bound_;
  std::mutex mutex_;
  policy::key_limits limits_;
  std::unique_ptr<Record[]> records_;
  std::vector<std::string> keys_;                   // per slot
  std::vector<std::optional<std::string>> running_; // per worker: its task's key
  std::vector<bool> parked_;                        // per worker
  std::vector<std::size_t> free_;
  std::deque<std::size_t> ready_;
  std::size_t waiting_ = 0; // records in slots
  std::vector<asio::steady_timer> timers_;
  std::function<void()> announce_;
  std::function<void(std::size_t)> on_ready_, wake_;
  const std::atomic<bool>* cancelled_;
  asio::any_io_executor executor_;
  std::atomic<std::size_t> tracked_{0}, peak_{0};
};

} // namespace jobrunner::detail

#endif
