// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_WORKER_STEPS_HPP
#define JOBRUNNER_DETAIL_WORKER_STEPS_HPP

// The worker's steps off its fast path, one function each, so that
// worker.hpp reads as the hot path: the waits (each a coroutine of its own,
// paid only when the worker has to wait) and the policy point after an
// attempt (a plain function around policy::decide()).

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/coro_cancellation.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/member_set.hpp>
#include <jobrunner/detail/policy/attempt.hpp>
#include <jobrunner/detail/policy/deadline.hpp>
#include <jobrunner/detail/task_clock.hpp>
#include <jobrunner/retry_after.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace jobrunner::detail {

// A worker's stopwatch: one clock read per task on the fast path, where the
// end of one task is the start of the next (the worker did not suspend in
// between); invalidate() when it suspends.
class task_stopwatch
{
public:
  void invalidate() noexcept { valid_ = false; }
  void start() noexcept
  {
    if (!valid_)
      mark_ = clock_.now();
  }
  std::chrono::nanoseconds stop() noexcept
  {
    const auto end = clock_.now();
    const auto d = clock_.to_duration(end - mark_);
    mark_ = end;
    valid_ = true;
    return d;
  }

private:
  const task_clock& clock_ = task_clock::instance();
  task_clock::ticks mark_ = 0;
  bool valid_ = false;
};

// Parks the worker until another coroutine wakes it; the caller has
// shielded itself, and checks its condition again after.
inline auto park(member& self, task_stopwatch& watch)
{
  watch.invalidate();
  return park(self);
}

// A retry's backoff on the worker; a cancellation ends it. (Called with no
// cancellation pending: co_await of a coroutine throws operation_aborted
// when the state is cancelled.)
inline asio::awaitable<void> wait_for_retry(member& self, shield_guard& guard,
                                            std::chrono::nanoseconds delay)
{
  if (guard.shielded())
    co_await guard.lift();
  co_await wait_until(self, std::chrono::steady_clock::now() + delay);
}

// The handler of the worker's try_receive: the record is built straight
// from the message (one move of the item). `submitted` (queue-wait
// deadline only, so never in the lean worker) receives the message's
// submission time.
template <class Record, class Message, bool Policies>
auto take_into(Record& record, error_code& ec,
               std::chrono::steady_clock::time_point* submitted) noexcept
{
  return [&record, &ec, submitted](error_code e, Message&& m) {
    ec = e;
    if (m)
      record.emplace(std::move(*m));
    if constexpr (Policies)
    {
      if (submitted)
        *submitted = m.submitted;
    }
    else
      (void)submitted; // the lean worker has no queue-wait deadline
  };
}

// Before an attempt: arms the timeout, clears what the last attempt left;
// returns the adaptive limit's epoch (see concurrency_limit::on_overload).
template <bool Policies, class State, class TaskResultT>
std::uint64_t begin_attempt(State& job, member& self, TaskResultT& r, bool timed)
{
  if (timed && !self.deadline)
    self.deadline.emplace();
  if (timed) // the total deadline (issue 14) cuts the timeout to the time left
    self.deadline->arm(self.executor, self.signal, self.finished,
                       r.deadline == policy::no_deadline
                           ? job.config().task_timeout
                           : policy::attempt_timeout(job.config().task_timeout, r.deadline,
                                                     std::chrono::steady_clock::now()),
                       job.shared_from_this());
  if (r.attempts++ != 0)
  {
    r.error = nullptr;
    r.value.reset();
  }
  else if constexpr (Policies) // retry budget (issue 14): first attempts pay for retries
    if (job.budget)
      job.budget_first_attempt(std::chrono::steady_clock::now());
  if constexpr (Policies)
    return job.limit ? job.limit->epoch() : 0;
  else
    return 0;
}

// A synchronous function's value (std::monostate for void).
template <class State, class ItemT>
auto invoke_sync(State& job, ItemT& item)
{
  if constexpr (std::is_void_v<typename State::result_type>)
  {
    job.sync_fn(item);
    return std::monostate{};
  }
  else
    return job.sync_fn(item);
}

// Before a start: waits out the push-back pause and the rate limit (a
// cancellation ends the wait). Called only while the job is not cancelled
// (so no cancellation is pending, which would make this co_await throw). Returns true if the worker
// should ask again (a push-back arrived during the wait and extended it).
template <class State>
asio::awaitable<bool> wait_for_start(State& job, member& self, shield_guard& guard,
                                     task_stopwatch& watch)
{
  using steady = std::chrono::steady_clock;
  const auto paused = job.gate.paused_until();
  const auto now = steady::now();
  if (job.on_event
      && job.gate.claim_end(paused, now.time_since_epoch() / std::chrono::nanoseconds(1)))
    job.notify(event_kind::pause_ended, 0, 0,
               steady::time_point(
                   std::chrono::duration_cast<steady::duration>(std::chrono::nanoseconds(paused))));
  const auto at = job.gate.start_time(now, paused);
  if (at <= now)
    co_return false;
  watch.invalidate();
  if (guard.shielded())
    co_await guard.lift();
  co_await wait_until(self, at);
  co_return job.gate.paused_until() > paused;
}

// Waits while the circuit breaker is open or its probes are out, until `at`
// or a wake (the breaker closed); a cancellation ends the wait. Called like
// wait_for_start, right after asking the breaker (no suspension between:
// a wake posted after the answer finds the wait started).
inline asio::awaitable<void> wait_for_breaker(member& self, shield_guard& guard,
                                              task_stopwatch& watch,
                                              std::chrono::steady_clock::time_point at)
{
  watch.invalidate();
  if (guard.shielded())
    co_await guard.lift();
  co_await breaker_wait(self, at);
}

// In a catch block: records the task's exception in `r`; returns the delay
// of a push-back (`retry_after`), if that is what it was.
template <class TaskResultT>
std::optional<std::chrono::nanoseconds> note_failure(TaskResultT& r, bool timed_out,
                                                     bool cancelled) noexcept
{
  r.error = std::current_exception();
  r.status = timed_out   ? task_status::timed_out
             : cancelled ? task_status::cancelled
                         : task_status::failed;
  try
  {
    std::rethrow_exception(r.error);
  }
  catch (const retry_after& e)
  {
    r.status = task_status::failed;
    return e.delay();
  }
  catch (...)
  {
    return std::nullopt;
  }
}

// The push-back pause's end as a time point (the gate keeps nanoseconds).
template <class Gate>
std::chrono::steady_clock::time_point paused_until_of(const Gate& gate) noexcept
{
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::nanoseconds(gate.paused_until())));
}

// After an attempt: feeds the outcome to the policies (adaptive limit,
// push-back pause), decides what happens next, and sets a retry aside when
// that is the decision and a slot is free (then `record` is empty).
template <class State>
policy::decision after_attempt(State& job, typename State::result_message& record,
                               std::optional<std::chrono::nanoseconds> pushback,
                               std::uint64_t epoch, std::uint64_t breaker_ticket)
{
  auto& r = *record;
  const bool has_deadline = r.deadline != policy::no_deadline; // deadlines (issue 14)
  const auto ended = has_deadline ? std::chrono::steady_clock::now() : policy::no_deadline;
  if (has_deadline && policy::expired_by_cut(r.status, r.deadline, ended))
    r.status = task_status::expired; // the deadline, not task_timeout, cut it
  if (job.breaker)                   // circuit breaker (issue 14)
    job.breaker_outcome(breaker_ticket, r, pushback.has_value());
  if (auto* limit = job.limit ? &*job.limit : nullptr)
  {
    auto wake = [&job](std::size_t w) { job.wake_worker(w); };
    const auto before = job.on_event ? limit->current() : 0;
    if (pushback || r.status == task_status::timed_out)
      limit->on_overload(epoch, wake);
    else if (r.status == task_status::succeeded)
      limit->on_success(wake);
    if (job.on_event && limit->current() != before)
      job.notify(event_kind::limit_changed, r.sequence,
                 static_cast<std::int64_t>(limit->current()));
  }
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
  if (has_deadline // deadlines (issue 14): a next run at or past the deadline is not made
      && policy::next_run_too_late(next, r.deadline, ended, paused_until_of(job.gate)))
  {
    r.status = task_status::expired;
    return {};
  }
  if (next.step != policy::next_step::run_again && job.budget
      && !job.budget_allows_retry(std::chrono::steady_clock::now()))
  {
    job.retries_refused.add(); // retry budget (issue 14): the last attempt is the result
    return {};
  }
  job.retried.add();
  if (next.step != policy::next_step::run_again)
    job.notify(event_kind::retry_scheduled, r.sequence, next.delay.count());
  if (next.step == policy::next_step::retry_aside
      && !job.retries.defer(record, next.delay, job.shared_from_this()))
    next.step = policy::next_step::retry_here; // every slot taken: wait on the worker
  return next;
}

// A worker's last steps (shielded): parked workers are woken to take their
// end markers; the worker whose final result ended the input sends the
// others theirs; the last worker out tells the result handler (FIFO order
// puts its marker after every result).
template <class State>
asio::awaitable<void> leave_the_job(State& job, bool ended_input)
{
  job.end_of_input();
  if (ended_input)
  {
    co_await send_end_markers(job, job.config().workers - 1);
    // send_end_markers may have reset the state to let cancellation in:
    // shield again, or a cancel would abort the marker below and leave the
    // result handler waiting for it.
    co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
  }
  if (job.workers_left.fetch_sub(1, std::memory_order_acq_rel) == 1)
    co_await job.results().async_close(asio::deferred);
  co_await leave_cancelled_state_quietly();
}

} // namespace jobrunner::detail

#endif
