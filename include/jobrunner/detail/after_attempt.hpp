// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_AFTER_ATTEMPT_HPP
#define JOBRUNNER_DETAIL_AFTER_ATTEMPT_HPP

// The worker's policy point after an attempt (worker.hpp's point 4), a
// plain function around policy::decide(). In order: the total deadline
// tells a cut attempt from a timeout; the outcome feeds the circuit breaker
// and the adaptive limit; a push-back pauses dispatch; decide() chooses
// what comes next; the total deadline, then the retry budget, may refuse a
// next run; a retry is set aside when a slot is free. A final result that
// fails a fail-fast job stops the job here, before it is delivered.

#include <jobrunner/detail/policy/attempt.hpp>
#include <jobrunner/detail/policy/concurrency_limit.hpp>
#include <jobrunner/detail/policy/deadline.hpp>
#include <jobrunner/detail/policy/fail_fast.hpp>
#include <jobrunner/event.hpp>
#include <jobrunner/task_result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace jobrunner::detail {

// The push-back pause's end as a time point (the gate keeps nanoseconds).
template <class Gate>
std::chrono::steady_clock::time_point paused_until_of(const Gate& gate) noexcept
{
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::nanoseconds(gate.paused_until())));
}

// The attempt's outcome to the policies that learn from it: the total
// deadline tells a cut attempt from a timeout, then the circuit breaker and
// the adaptive limit.
template <class State>
void feed_outcome(State& job, typename State::task_result& r, bool pushed_back,
                  std::chrono::steady_clock::time_point ended, policy::limit_ticket limit_ticket,
                  std::uint64_t breaker_ticket)
{
  if (r.deadline != policy::no_deadline && policy::expired_by_cut(r.status, r.deadline, ended))
    r.status = task_status::expired; // the deadline, not task_timeout, cut it
  if (job.breaker)                   // circuit breaker (issue 14)
    job.breaker_outcome(breaker_ticket, r, pushed_back);
  if (auto* limit = job.limit ? &*job.limit : nullptr)
  {
    auto wake = [&job](std::size_t w) { job.wake_worker(w); };
    const auto before = job.on_event ? limit->current() : 0;
    const auto outcome = pushed_back || r.status == task_status::timed_out
                             ? policy::limit_outcome::overload
                         : r.status == task_status::succeeded ? policy::limit_outcome::success
                                                              : policy::limit_outcome::other;
    limit->finish(limit_ticket, outcome, r.duration, wake);
    if (job.on_event && limit->current() != before)
      job.notify(event_kind::limit_changed, r.sequence,
                 static_cast<std::int64_t>(limit->current()));
  }
}

// Whether the total deadline, then the retry budget, refuses the next run
// `next` chose; `r` then is the final result.
template <class State>
bool refuses_next_run(State& job, const policy::decision& next, typename State::task_result& r,
                      std::chrono::steady_clock::time_point ended)
{
  if (r.deadline != policy::no_deadline // deadlines (issue 14): not at or past the deadline
      && policy::next_run_too_late(next, r.deadline, ended, paused_until_of(job.gate)))
  {
    r.status = task_status::expired;
    return true;
  }
  if (next.step != policy::next_step::run_again && job.budget
      && !job.budget_allows_retry(std::chrono::steady_clock::now()))
  {
    job.retries_refused.add(); // retry budget (issue 14): the last attempt is the result
    return true;
  }
  return false;
}

// What happens after an attempt, final or not (after_attempt without
// fail-fast). Without Policies (the lean worker, where only a push-back can
// follow an attempt) the policy steps are not compiled.
template <bool Policies, class State>
policy::decision next_after_attempt(State& job, typename State::result_message& record,
                                    std::optional<std::chrono::nanoseconds> pushback,
                                    policy::limit_ticket limit_ticket, std::uint64_t breaker_ticket)
{
  auto& r = *record;
  [[maybe_unused]] const auto ended = Policies && r.deadline != policy::no_deadline
                                          ? std::chrono::steady_clock::now()
                                          : policy::no_deadline;
  if constexpr (Policies)
    feed_outcome(job, r, pushback.has_value(), ended, limit_ticket, breaker_ticket);
  if (pushback)
  {
    const auto now = std::chrono::steady_clock::now();
    if (job.gate.pause(now, *pushback)) // the event's time is the pause's start
      job.notify(event_kind::pause_started, r.sequence, pushback->count(), now);
  }
  auto next = policy::decide(
      job.config(), r, pushback.has_value(), job.cancel_requested(),
      [&job](const auto& x) { return job.is_retryable(x); }, policy::jitter);
  if (next.step == policy::next_step::deliver)
    return next;
  if constexpr (Policies)
    if (refuses_next_run(job, next, r, ended))
      return {};
  job.retried.add();
  if (next.step != policy::next_step::run_again)
    job.notify(event_kind::retry_scheduled, r.sequence, next.delay.count());
  if constexpr (Policies)
    if (next.step == policy::next_step::retry_aside
        && !job.retries.defer(record, next.delay, job.shared_from_this()))
      next.step = policy::next_step::retry_here; // every slot taken: wait on the worker
  return next;
}

// After an attempt: what happens next (`record` is empty when a retry was
// set aside).
template <bool Policies, class State>
policy::decision after_attempt(State& job, typename State::result_message& record,
                               std::optional<std::chrono::nanoseconds> pushback,
                               policy::limit_ticket limit_ticket, std::uint64_t breaker_ticket)
{
  const auto next =
      next_after_attempt<Policies>(job, record, pushback, limit_ticket, breaker_ticket);
  if constexpr (Policies)
    if (next.step == policy::next_step::deliver && job.config().fail_fast
        && policy::fails_job(record->status)) // fail-fast (issue 13)
      job.fail_fast(*record); // before sending: the job stops now, not when it is handled
  return next;
}

} // namespace jobrunner::detail

#endif
