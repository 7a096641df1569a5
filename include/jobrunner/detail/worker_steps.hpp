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
#include <jobrunner/detail/policy/circuit_breaker.hpp>
#include <jobrunner/detail/policy/fail_fast.hpp>
#include <jobrunner/detail/task_stopwatch.hpp>
#include <jobrunner/detail/worker_deadlines.hpp>
#include <jobrunner/retry_after.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace jobrunner::detail {

// Parks the worker until woken; the caller has shielded itself, checks again after.
inline auto park(member& self, task_stopwatch& watch)
{
  watch.invalidate();
  return park(self);
}

// A retry's backoff on the worker; a cancellation ends it. (Called with no
// cancellation pending: co_await of a coroutine throws operation_aborted
// when the state is cancelled.)
inline asio::awaitable<void> wait_for_retry(member& self, shield_guard& guard,
                                            task_stopwatch& watch, std::chrono::nanoseconds delay)
{
  watch.invalidate();
  guard.lift();
  co_await wait_until(self, std::chrono::steady_clock::now() + delay);
}

// The worker's two waits on its queues, both shielded: unstoppable (no
// cancellation handler registered per wait, coro_cancellation.hpp).
template <class Message, class Channel>
auto receive_shielded(Channel& work)
{
  return unstoppable<void(error_code, Message)>(
      [&work](auto h) { work.async_receive(std::move(h)); }, asio::as_tuple(asio::deferred));
}
template <class Queue, class Record>
auto send_shielded(Queue& results, Record& record)
{
  return unstoppable<void(error_code)>(
      [&results, &record](auto h) { results.async_send(record, std::move(h)); }, asio::deferred);
}

// The handler of the worker's try_receive: the record is built straight
// from the message (one move of the item); with a queue-wait deadline (never
// in the lean worker) the message's submission time is kept.
template <class Record, class Message, bool Policies>
auto take_into(Record& record, error_code& ec, worker_deadlines& d) noexcept
{
  return [&record, &ec, &d](error_code e, Message&& m) {
    ec = e;
    if (m)
      record.emplace(std::move(*m));
    if constexpr (Policies)
    {
      if (d.queue_wait.count() > 0)
        d.submitted = m.submitted;
    }
    else
      (void)d;
  };
}

// Before an attempt: arms the timeout, clears what the last attempt left;
// returns the adaptive limit's ticket (see concurrency_limit::start).
template <bool Policies, class State, class TaskResultT>
policy::limit_ticket begin_attempt(State& job, member& self, TaskResultT& r, bool timed)
{
  if constexpr (Policies) // the timeout; the total deadline (issue 14) cuts it to the time left
    if (timed)
    {
      if (!self.deadline)
        self.deadline.emplace();
      self.deadline->arm(self.executor, self.signal, self.finished,
                         r.deadline == policy::no_deadline
                             ? job.config().task_timeout
                             : policy::attempt_timeout(job.config().task_timeout, r.deadline,
                                                       std::chrono::steady_clock::now()),
                         job.shared_from_this());
    }
  if (r.attempts++ != 0)
  {
    r.error = nullptr;
    r.value.reset();
  }
  else if constexpr (Policies) // retry budget (issue 14): first attempts pay for retries
    if (job.budget)
      job.budget_first_attempt(std::chrono::steady_clock::now());
  if constexpr (Policies)
    if (job.limit)
      return job.limit->start();
  return {};
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
// cancellation ends it). Called only while the job is not cancelled (a
// pending cancellation would make this co_await throw). True: ask again (a
// push-back arrived during the wait and extended it).
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
  guard.lift();
  co_await wait_until(self, at);
  co_return job.gate.paused_until() > paused;
}

// The circuit breaker (issue 14), asked before a start: with none, go.
template <bool Policies, class State>
policy::admission admit_past_breaker(State& job)
{
  if constexpr (Policies)
    if (job.breaker)
      return job.breaker_admit(std::chrono::steady_clock::now()); // may give up
  return {};
}

// Waits while the breaker is open or its probes are out, until `at` or a
// wake (it closed); a cancellation ends it. Called like wait_for_start, right
// after asking the breaker (a wake posted after the answer finds the wait).
inline asio::awaitable<void> wait_for_breaker(member& self, shield_guard& guard,
                                              task_stopwatch& watch,
                                              std::chrono::steady_clock::time_point at)
{
  watch.invalidate();
  guard.lift();
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
    return {};
  }
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
