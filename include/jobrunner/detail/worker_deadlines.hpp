// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_WORKER_DEADLINES_HPP
#define JOBRUNNER_DETAIL_WORKER_DEADLINES_HPP

// JobConfig::deadline (issue 14) in the worker: the total deadline fixed at
// an item's first take, the queue-wait check, and the check before a start.
// The decisions are policy/deadline.hpp's; after an attempt they are
// after_attempt.hpp's. Only the policy worker (run_worker<true>) uses them.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/policy/deadline.hpp>
#include <jobrunner/task_result.hpp>

#include <chrono>

namespace jobrunner::detail {

// The deadlines (issue 14) as one worker applies them (policy/deadline.hpp).
struct worker_deadlines
{
  worker_deadlines(const JobConfig& c, bool policies) noexcept
      : total(policies ? c.deadline.total : std::chrono::nanoseconds{}),
        queue_wait(policies ? c.deadline.queue_wait : std::chrono::nanoseconds{})
  {}
  std::chrono::nanoseconds total, queue_wait;
  std::chrono::steady_clock::time_point submitted{}; // the last message's, with a queue wait

  // Attempts are timed with a task timeout or a total deadline (it cuts them).
  bool times_attempts(const JobConfig& c) const
  {
    return c.task_timeout.count() > 0 || total.count() > 0;
  }

  // A fresh item taken: sets its total deadline; true if it waited too long.
  template <class TaskResultT>
  bool on_take(TaskResultT& r) const
  {
    if (total.count() <= 0 && queue_wait.count() <= 0)
      return false;
    const auto now = std::chrono::steady_clock::now();
    r.deadline = policy::item_deadline(total, now);
    return policy::waited_too_long(queue_wait, submitted, now);
  }
};

// Before a start, after the rate limit: true if the item ends here, unrun,
// because it waited too long in the queue or its total deadline is reached.
template <class TaskResultT>
bool expires_before_start(TaskResultT& r, bool stale)
{
  if (stale)
    r.status = task_status::expired_in_queue;
  else if (r.deadline != policy::no_deadline
           && !policy::may_start(r.deadline, std::chrono::steady_clock::now()))
    r.status = task_status::expired;
  else
    return false;
  return true;
}

} // namespace jobrunner::detail

#endif
