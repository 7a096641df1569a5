// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_WORKER_KEYS_HPP
#define JOBRUNNER_DETAIL_WORKER_KEYS_HPP

// The worker's steps for items that come back into the work queue (a retry
// due, a key due) and for JobConfig::per_key (issue 14): the admission of an
// item by its key, before the job-wide rate limit (key_area.hpp). Only the
// policy worker (run_worker<true>) admits by key.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/coro_cancellation.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_core.hpp>
#include <jobrunner/detail/member_set.hpp>
#include <jobrunner/detail/policy/key_limits.hpp>
#include <jobrunner/detail/task_stopwatch.hpp>

#include <atomic>
#include <cstddef>
#include <optional>
#include <type_traits>

namespace jobrunner::detail {

// Creates the key area of `job` (a job_state): its "key due" messages go
// into the work queue (never cancelled, as the retry queue's), its wakes to
// the job's workers.
template <class Threading, class Job, class Area>
void make_key_area(std::optional<Area>& area, Job& job, const std::atomic<bool>& cancelled)
{
  area.emplace(
      job.config(), [&job] { return Threading::coroutine_executor(job.executor()); },
      [&job] { job.open.open(); }, // a message announced holds the input open
      [&job](std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
          job.work().async_send(key_due(), typename Job::work_message_type{}, [](error_code) {});
      },
      [&job](std::size_t w) { job.wake_worker(w); }, cancelled);
}

enum class taken_back
{
  end,     // an end marker: input is over
  nothing, // a stale message: take the next
  record,  // a record from the retry queue or the key area
};

// A message with an error: an end marker, or a record to take back (only
// the policy worker can get one).
template <bool Policies, class State>
taken_back take_back([[maybe_unused]] State& job, [[maybe_unused]] error_code ec,
                     [[maybe_unused]] typename State::result_message& record,
                     [[maybe_unused]] std::size_t w)
{
  if constexpr (Policies)
  {
    if (ec == retry_due())
    {
      if (auto back = job.retries.take())
      {
        record.emplace(std::move(*back));
        return taken_back::record;
      }
      return taken_back::nothing;
    }
    if (ec == key_due() && job.keys)
    {
      using settled = typename std::remove_reference_t<decltype(*job.keys)>::settled;
      const auto took = job.keys->take(w, record, job.alive()) == settled::took;
      if (job.open.release()) // its announcement, the last share if its record was done
        end_input_detached<typename State::threading>(job.shared_from_this());
      return took ? taken_back::record : taken_back::nothing;
    }
  }
  return taken_back::end;
}

// Whether the item just taken goes through its key's admission: per-key
// limits are on, it is not a record its key already admitted, it has not
// expired in the queue, the job is not cancelled.
template <class State>
bool by_key(const State& job, error_code ec, bool stale) noexcept
{
  return job.keys && ec != key_due() && !stale && !job.cancel_requested();
}

// Per-key limits: true if `record` may run (its key's slot is the worker's,
// or a record released meanwhile was taken instead); false: it went aside,
// take the next. Called while the job is not cancelled (a pending
// cancellation would make this co_await throw); the waits are shielded
// (cancel_all wakes a parked worker; a wait for room in the key table is
// bounded by the rate that holds it).
template <class State>
asio::awaitable<bool> admit_by_key(State& job, member& self, shield_guard& guard,
                                   task_stopwatch& watch, typename State::result_message& record,
                                   std::size_t w)
{
  auto& keys = *job.keys;
  using settled = typename std::remove_reference_t<decltype(keys)>::settled;
  for (;;)
  {
    const auto a = keys.admit(w, job.key_of(record->item), record, job.alive());
    if (a.kind == policy::key_limits::start::go)
      co_return true;
    if (a.kind == policy::key_limits::start::aside)
      break;
    watch.invalidate();
    if (!guard.shielded())
      co_await guard.shield();
    co_await wait_until(self, a.retry_at);
  }
  for (;;) // over the set-aside bound: no next item until it is back within
  {
    const auto s = keys.take(w, record, job.alive(), true);
    if (s != settled::park)
    {
      watch.invalidate();
      co_return s == settled::took;
    }
    if (!guard.shielded())
      co_await guard.shield();
    co_await park(self);
  }
}

// After an item's attempts: its key's slot is released. True if `record`
// is still there (false: set aside for a retry).
template <bool Policies, class State>
bool key_finished(State& job, std::size_t w, const typename State::result_message& record)
{
  if constexpr (Policies)
    if (job.keys)
      job.keys->finish(w, job.alive());
  return record.has_value();
}

} // namespace jobrunner::detail

#endif
