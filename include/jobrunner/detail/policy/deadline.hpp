// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_DEADLINE_HPP
#define JOBRUNNER_DETAIL_POLICY_DEADLINE_HPP

// JobConfig::deadline, pure decisions (the caller passes the times; no clock
// read here). The total deadline of an item is fixed when a worker first
// takes it (TaskResult::deadline) and travels with the item through its
// retries; the worker asks:
// - before each start (after the rate limit and any pause): may_start();
//   an attempt never starts at or past the deadline;
// - when it arms an attempt: attempt_timeout(), the task timeout cut to the
//   time left (a cut attempt that runs out is reported expired, not
//   timed out: expired_by_cut());
// - after an attempt, once decide() chose to run the item again:
//   next_run_too_late(), a retry whose backoff, or a push-back whose pause,
//   would end at or past the deadline is not made. The item is then
//   reported `task_status::expired` with its last attempt's error (the
//   deadline, not the retry policy, is why it ends; a retry refused by the
//   retry budget instead keeps the last attempt's status).
// The queue-wait deadline: waited_too_long(), asked once when a worker
// takes a fresh item; such an item is reported expired_in_queue, never run.

#include <jobrunner/detail/policy/attempt.hpp>
#include <jobrunner/task_result.hpp>

#include <chrono>
#include <cstdint>

namespace jobrunner::detail::policy {

using deadline_clock = std::chrono::steady_clock;

// What TaskResult::deadline holds when the job has no total deadline.
inline constexpr deadline_clock::time_point no_deadline{};

// The total deadline of an item a worker first takes at `taken`.
inline deadline_clock::time_point item_deadline(std::chrono::nanoseconds total,
                                                deadline_clock::time_point taken) noexcept
{
  if (total.count() <= 0)
    return no_deadline;
  return taken + std::chrono::duration_cast<deadline_clock::duration>(total);
}

// The earlier of a wait's end and the deadline (a wait never outlasts it).
inline deadline_clock::time_point earlier(deadline_clock::time_point until,
                                          deadline_clock::time_point deadline) noexcept
{
  return deadline != no_deadline && deadline < until ? deadline : until;
}

// Whether `t` is at or past `deadline` (never, for no_deadline).
inline bool reached(deadline_clock::time_point deadline, deadline_clock::time_point t) noexcept
{
  return deadline != no_deadline && t >= deadline;
}

// Whether an attempt may start at `now`.
inline bool may_start(deadline_clock::time_point deadline, deadline_clock::time_point now) noexcept
{
  return !reached(deadline, now);
}

// The timeout to arm for an attempt starting at `now` (which may_start()
// allowed): `task_timeout` (0: none) cut to the time left.
inline std::chrono::nanoseconds attempt_timeout(std::chrono::nanoseconds task_timeout,
                                                deadline_clock::time_point deadline,
                                                deadline_clock::time_point now) noexcept
{
  if (deadline == no_deadline)
    return task_timeout;
  const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
  if (left.count() <= 0)
    return std::chrono::nanoseconds(1); // (may_start said no: not reached)
  return task_timeout.count() > 0 && task_timeout < left ? task_timeout : left;
}

// Whether an attempt that timed out at `now` was cut by the deadline (the
// timer armed with attempt_timeout() fires at or after it) rather than by
// task_timeout (which fires before it).
inline bool expired_by_cut(task_status status, deadline_clock::time_point deadline,
                           deadline_clock::time_point now) noexcept
{
  return status == task_status::timed_out && reached(deadline, now);
}

// Whether the next run decide() asked for would start at or past the
// deadline: a retry after `next.delay` from `now`, or a push-back re-run
// when the pause ends at `paused_until`.
inline bool next_run_too_late(const decision& next, deadline_clock::time_point deadline,
                              deadline_clock::time_point now,
                              deadline_clock::time_point paused_until) noexcept
{
  if (deadline == no_deadline || next.step == next_step::deliver)
    return false;
  const auto resume = next.step == next_step::run_again
                          ? (paused_until > now ? paused_until : now)
                          : now + std::chrono::duration_cast<deadline_clock::duration>(next.delay);
  return reached(deadline, resume);
}

// Whether an item submitted at `submitted` and taken at `taken` waited
// longer than `queue_wait` (0: no limit). An item with no submission time
// (the job had no queue-wait deadline when it was submitted) never did.
inline bool waited_too_long(std::chrono::nanoseconds queue_wait,
                            deadline_clock::time_point submitted,
                            deadline_clock::time_point taken) noexcept
{
  return queue_wait.count() > 0 && submitted != deadline_clock::time_point{}
         && taken - submitted > queue_wait;
}

} // namespace jobrunner::detail::policy

#endif
