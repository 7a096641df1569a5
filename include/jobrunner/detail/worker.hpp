// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_WORKER_HPP
#define JOBRUNNER_DETAIL_WORKER_HPP

// The worker role: take an item, run the function on it (or, once the job is
// cancelled, mark it cancelled without running it), push the result record
// into the result channel. Workers never call user callbacks.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/task_clock.hpp>
#include <jobrunner/retry_after.hpp>
#include <jobrunner/task_result.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <type_traits>
#include <utility>

namespace jobrunner::detail {

// The worker's own channel operations must not be interrupted by the job's
// cancellation: an interrupted receive would trip asio#1241 (the channel then
// stops buffering) and an interrupted send would destroy a result. Before
// waiting in one, the worker filters cancellation out (which also clears a
// cancellation its last task received); before the next task it lets
// terminal cancellation in again. (Asio 1.81 cannot bind an empty slot to
// \`deferred\`, and use_awaitable costs a coroutine frame per wait.)
inline auto shield_from_cancellation()
{
  return asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
}

// co_spawn's entry point (Asio 1.81) may co_await a post after our body
// returns; with a cancelled state that co_await would throw out of
// io_context::run(). Every cancellable coroutine calls this last.
inline asio::this_coro::throw_if_cancelled_1_t leave_cancelled_state_quietly() noexcept
{
  return asio::this_coro::throw_if_cancelled(false);
}

// JobConfig::task_timeout. The deadline timer lives in the worker's member,
// runs on the worker's executor, and on expiry emits the worker's own
// cancellation signal, which interrupts the task's pending operation. The
// task number makes a late expiry (the task already over) a no-op.
template <class State>
void arm_deadline(const std::shared_ptr<State>& job, std::size_t index,
                  std::chrono::nanoseconds timeout)
{
  member& m = job->member_at(index);
  if (!m.deadline)
    m.deadline.emplace(m.executor);
  m.timed_out = false;
  const auto seq = ++m.task_seq;
  m.deadline->expires_after(timeout);
  m.deadline->async_wait([job, index, seq](error_code ec) {
    member& self = job->member_at(index);
    if (ec || self.task_seq != seq || self.finished)
      return;
    self.timed_out = true;
    self.signal.emit(asio::cancellation_type::terminal);
  });
}

inline void disarm_deadline(member& m)
{
  ++m.task_seq;
  m.deadline->cancel();
}

// JobConfig::retry: a random delay in [0, min(max, initial * multiplier^(n-1)))
// before attempt n+1 (exponential backoff with full jitter).
inline std::chrono::nanoseconds retry_backoff(const JobConfig::Retry& policy, unsigned attempts)
{
  double cap = static_cast<double>(policy.initial_backoff.count());
  const double most = static_cast<double>(policy.max_backoff.count());
  for (unsigned k = 1; k < attempts && cap < most; ++k)
    cap *= policy.multiplier;
  cap = std::min(cap, most);
  thread_local std::minstd_rand engine(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(jitter(engine) * cap));
}

// Parks the worker until another coroutine wakes it (see member::park_timer).
inline auto park(member& m)
{
  if (!m.park_timer)
    m.park_timer.emplace(m.executor);
  m.park_timer->expires_at(asio::steady_timer::time_point::max());
  return m.park_timer->async_wait(asio::as_tuple(asio::deferred));
}

template <class Item, class Result, class Threading>
asio::awaitable<void> run_worker(std::shared_ptr<job_state<Item, Result, Threading>> job,
                                 std::size_t index)
{
  using state = job_state<Item, Result, Threading>;
  using result_message = typename state::result_message;

  auto& work = job->work();
  auto& results = job->results();
  const JobConfig& config = job->config();
  const bool is_async = static_cast<bool>(job->async_fn);
  // A synchronous function cannot be interrupted: only async tasks time out.
  const auto timeout = config.task_timeout;
  const bool timed = is_async && timeout.count() > 0;
  const bool retrying = config.retry.max_attempts > 1;
  const bool ordered = config.ordered_delivery;
  const bool counting = job->counting_open();
  concurrency_limit* const limit = job->limit ? &*job->limit : nullptr;
  const std::size_t worker_number = index - job->first_worker;
  member& self = job->member_at(index);
  auto wake = [&job](std::size_t w) { job->wake_worker(w); };

  // The clock is read once per task on the fast path: the end of one task is
  // the start of the next while the worker does not suspend in between.
  const task_clock& stopwatch = task_clock::instance();
  task_clock::ticks mark = 0;
  bool mark_valid = false;
  bool shielded = false;
  // Set when this worker's final result ended the input (retries off the
  // workers): it then sends the other workers' end markers and leaves.
  bool ended_input = false;

  for (;;)
  {
    // Adaptive concurrency: a worker above the limit parks before it takes
    // an item, so that it never holds one while parked.
    if (limit)
    {
      while (!limit->admit_or_park(worker_number))
      {
        mark_valid = false;
        if (!shielded)
        {
          co_await shield_from_cancellation();
          shielded = true;
        }
        co_await park(self);
      }
    }

    // The record is built straight from the received message: one move of
    // the item on the fast path.
    result_message record;
    error_code ec;
    if (!work.try_receive([&](error_code e, work_message<Item>&& m) {
          ec = e;
          if (m)
            record.emplace(std::move(*m));
        }))
    {
      mark_valid = false;
      if (!shielded)
      {
        co_await shield_from_cancellation();
        shielded = true;
      }
      auto [e, m] = co_await work.async_receive(asio::as_tuple(asio::deferred));
      ec = e;
      if (m)
        record.emplace(std::move(*m));
    }
    if (!ec)
      record->sequence = job->on_taken();
    else if (ec == retry_due())
    {
      move_into(record, job->take_retry());
      if (!record)
        continue;
    }
    else // an end marker: input is over
    {
      job->end_of_input();
      break;
    }

    auto& r = *record;

    // Ordered delivery: stay within the reorder window.
    if (ordered)
    {
      while (!job->window_admits(r.sequence, index))
      {
        mark_valid = false;
        if (!shielded)
        {
          co_await shield_from_cancellation();
          shielded = true;
        }
        co_await park(self);
      }
    }

    bool deferred = false;
    // One pass per attempt: push-back and inline retries run the item again.
    for (;;)
    {
      // Dispatch gates: a push-back pauses every worker; the rate limit
      // spaces the starts. A cancellation of the job ends the wait.
      const auto pause_ns = job->paused_until.load(std::memory_order_relaxed);
      if (!job->cancel_requested() && (job->rate || pause_ns != 0))
      {
        using steady = std::chrono::steady_clock;
        const auto now = steady::now();
        auto start_at = steady::time_point(
            std::chrono::duration_cast<steady::duration>(std::chrono::nanoseconds(pause_ns)));
        if (start_at < now)
          start_at = now;
        if (job->rate)
          start_at = job->rate->reserve(start_at);
        if (start_at > now)
        {
          mark_valid = false;
          if (shielded)
          {
            co_await asio::this_coro::reset_cancellation_state();
            shielded = false;
          }
          if (!self.gate_timer)
            self.gate_timer.emplace(self.executor);
          self.gate_timer->expires_at(start_at);
          co_await self.gate_timer->async_wait(asio::as_tuple(asio::deferred));
          // A push-back that arrived during the wait extends it.
          if (job->paused_until.load(std::memory_order_relaxed) > pause_ns)
            continue;
        }
      }
      if (job->cancel_requested())
        break; // not run (again): the status is cancelled, or the last attempt's

      if (shielded)
      {
        // Terminal cancellation reaches the task again.
        co_await asio::this_coro::reset_cancellation_state();
        shielded = false;
      }
      if (!mark_valid)
        mark = stopwatch.now();
      if (timed)
        arm_deadline(job, index, timeout);
      const std::uint64_t epoch = limit ? limit->epoch() : 0;
      std::optional<std::chrono::nanoseconds> pushback;
      if (r.attempts != 0)
      {
        r.error = nullptr;
        r.value.reset();
      }
      try
      {
        if (is_async)
        {
          auto task = job->async_fn(r.item);
          if constexpr (std::is_void_v<Result>)
          {
            co_await std::move(task);
            r.value.emplace();
          }
          else
            r.value.emplace(co_await std::move(task));
        }
        else
        {
          if constexpr (std::is_void_v<Result>)
          {
            job->sync_fn(r.item);
            r.value.emplace();
          }
          else
            r.value.emplace(job->sync_fn(r.item));
        }
        r.status = task_status::succeeded;
      }
      catch (const retry_after& e)
      {
        pushback = e.delay();
        r.error = std::current_exception();
        r.status = task_status::failed;
      }
      catch (...)
      {
        r.error = std::current_exception();
        r.status = timed && self.timed_out   ? task_status::timed_out
                   : job->cancel_requested() ? task_status::cancelled
                                             : task_status::failed;
      }
      ++r.attempts;
      if (timed)
      {
        disarm_deadline(self);
        if (self.timed_out)
        {
          // The expiry cancelled this coroutine's state; the next task
          // must start clean.
          self.timed_out = false;
          co_await asio::this_coro::reset_cancellation_state();
        }
      }
      auto end = stopwatch.now();
      r.duration = stopwatch.to_duration(end - mark);
      mark = end;
      mark_valid = true;

      if (limit)
      {
        if (pushback || r.status == task_status::timed_out)
          limit->on_overload(epoch, wake);
        else if (r.status == task_status::succeeded)
          limit->on_success(wake);
      }

      if (pushback)
      {
        job->pause_for(*pushback);
        if (job->cancel_requested())
        {
          r.status = task_status::cancelled; // it will not run again
          break;
        }
        if (r.attempts > config.max_pushbacks)
          break; // fails with the retry_after it threw
        job->retried.add();
        r.error = nullptr;
        r.status = task_status::cancelled; // until it runs again
        mark_valid = false;
        continue;
      }

      if (!retrying || r.attempts >= config.retry.max_attempts || job->cancel_requested()
          || r.status == task_status::cancelled || !job->is_retryable(r))
        break;

      // A retry: aside, off the worker, when a slot is free; otherwise here.
      job->retried.add();
      mark_valid = false;
      const auto delay = retry_backoff(config.retry, r.attempts);
      if (counting && job->defer_retry(record, delay))
      {
        deferred = true;
        break;
      }
      if (shielded)
      {
        co_await asio::this_coro::reset_cancellation_state();
        shielded = false;
      }
      if (!self.gate_timer)
        self.gate_timer.emplace(self.executor);
      self.gate_timer->expires_after(delay);
      co_await self.gate_timer->async_wait(asio::as_tuple(asio::deferred));
      // A cancellation ends the wait: the loop's check then reports the
      // item with its last attempt's outcome.
    }
    if (deferred)
      continue;
    // else: cancelled before it ran (status defaults to cancelled).

    if (!results.try_send(error_code{}, std::move(record)))
    {
      mark_valid = false;
      if (!shielded)
      {
        co_await shield_from_cancellation();
        shielded = true;
      }
      co_await results.async_send(error_code{}, std::move(record), asio::deferred);
    }
    if (counting && job->release_open())
    {
      ended_input = true;
      break;
    }
  }

  if (ended_input)
  {
    // This worker's result was the last one: end the input for the others.
    job->end_of_input();
    co_await shield_from_cancellation();
    co_await send_end_markers(*job, config.workers - 1);
  }

  // The last worker out tells the result handler; FIFO order puts the marker
  // after every result.
  if (job->workers_left.fetch_sub(1, std::memory_order_acq_rel) == 1)
  {
    co_await shield_from_cancellation();
    error_code eof = asio::error::eof;
    result_message marker;
    co_await results.async_send(eof, std::move(marker), asio::deferred);
  }
  co_await leave_cancelled_state_quietly();
}

} // namespace jobrunner::detail

#endif
