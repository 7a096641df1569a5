// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_ATTEMPT_HPP
#define JOBRUNNER_DETAIL_POLICY_ATTEMPT_HPP

// After an attempt: what happens to the item next. A pure decision (no
// I/O, no clock): the worker runs the task, calls decide(), and carries out
// the step it returns. The order of the rules:
// 1. a push-back (the task threw `retry_after`) runs the item again after
//    the pause, up to JobConfig::max_pushbacks push-backs of that item,
//    then it fails with the `retry_after`; it does not use up a retry;
// 2. otherwise, a retry (JobConfig::retry) when the job is not cancelled,
//    the attempt was not cancelled, attempts other than push-backs remain,
//    and the predicate says the outcome is retryable: after a backoff,
//    aside (off the worker) when the job allows it, else on the worker;
// 3. otherwise the result is final: deliver it.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/policy/retry.hpp>
#include <jobrunner/task_result.hpp>

#include <chrono>

namespace jobrunner::detail::policy {

enum class next_step
{
  deliver,     ///< the result is final
  run_again,   ///< a push-back: run again once the pause is over
  retry_aside, ///< wait `delay` off the worker (retry_queue), then run again
  retry_here,  ///< wait `delay` on the worker, then run again
};

struct decision
{
  next_step step = next_step::deliver;
  std::chrono::nanoseconds delay{0};
};

// `r` holds the attempt's outcome (status, attempts counted); `pushed_back`
// says the task threw `retry_after`. Updates `r.pushbacks` and, for an
// item pushed back, `r.status` (cancelled until it runs again).
// `retryable(r)` is asked only when a retry is possible; `draw()` gives a
// number in [0, 1) for the backoff's jitter, only for a retry.
template <class TaskResultT, class Retryable, class Draw>
decision decide(const JobConfig& config, TaskResultT& r, bool pushed_back, bool cancelled,
                Retryable&& retryable, Draw&& draw)
{
  if (pushed_back)
  {
    if (++r.pushbacks > config.max_pushbacks)
      return {}; // fails with the retry_after it threw
    // Until it runs again: cancelled, with the push-back as its error.
    r.status = task_status::cancelled;
    if (cancelled)
      return {};
    return {next_step::run_again, {}};
  }
  const unsigned failed_attempts = r.attempts - r.pushbacks;
  if (config.retry.max_attempts <= 1 || failed_attempts >= config.retry.max_attempts || cancelled
      || r.status == task_status::cancelled || !retryable(static_cast<const TaskResultT&>(r)))
    return {};
  const auto delay = backoff(config.retry, failed_attempts, draw());
  return {config.retries_off_worker() ? next_step::retry_aside : next_step::retry_here, delay};
}

} // namespace jobrunner::detail::policy

#endif
