// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_WORKER_HPP
#define JOBRUNNER_DETAIL_WORKER_HPP

// The worker role, the per-item hot path: take an item, run the function on
// it (not once the job is cancelled), hand the result to the result handler.
// Policies plug in at four points, each a call into its own object
// (detail/policy/, worker_steps.hpp): 1. before taking an item, adaptive
// concurrency; 2. before a start, the reorder window, then the push-back
// pause and rate limit; 3. around the task, the timeout; 4. after an
// attempt, after_attempt(). run_worker<false>, for jobs with no policy set,
// compiles 1, 3 and 4 away (push-back, always on, takes 4 when it happens).

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/coro_cancellation.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/policy/deadline.hpp>
#include <jobrunner/detail/worker_steps.hpp>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace jobrunner::detail {

template <bool Policies, class Item, class Result, class Threading>
asio::awaitable<void> run_worker(std::shared_ptr<job_state<Item, Result, Threading>> job,
                                 std::size_t index)
{
  using result_message = typename job_state<Item, Result, Threading>::result_message;
  auto& work = job->work();
  auto& results = job->results();
  member& self = job->members[index];
  const bool is_async = static_cast<bool>(job->async_fn);
  const bool timed = Policies && is_async
                     && (job->config().task_timeout.count() > 0
                         || job->config().deadline.total.count() > 0); // it cuts the timeout
  const auto total_deadline = job->config().deadline.total;            // deadlines (issue 14)
  const auto queue_wait = Policies ? job->config().deadline.queue_wait : std::chrono::nanoseconds{};
  std::chrono::steady_clock::time_point submitted{}; // the last item's, with a queue wait
  auto* const stamp = queue_wait.count() > 0 ? &submitted : nullptr;
  auto* const limit = Policies && job->limit ? &*job->limit : nullptr;
  const bool fail_fast = Policies && job->config().fail_fast;
  shield_guard guard;
  task_stopwatch watch;
  bool ended_input = false; // this worker's final result ended the input

  for (;;)
  {
    if constexpr (Policies) // adaptive concurrency: park above the limit, holding no item
      while (limit && !limit->admit_or_park(index - job->first_worker))
      {
        if (!guard.shielded()) // first: a cancelled state would make co_await throw
          co_await guard.shield();
        co_await park(self, watch);
      }

    result_message record;
    error_code ec;
    if ((Policies && job->receive_pending())
        || !work.try_receive(
            take_into<result_message, work_message<Item>, Policies>(record, ec, stamp)))
    {
      watch.invalidate();
      if (!guard.shielded())
        co_await guard.shield();
      job->receive_started();
      auto [e, m] = co_await work.async_receive(asio::as_tuple(asio::deferred));
      job->receive_finished();
      take_into<result_message, work_message<Item>, Policies>(record, ec, stamp)(e, std::move(m));
    }
    if (!ec)
      record->sequence = job->input.on_taken();
    else if (ec != retry_due()) // an end marker: input is over
      break;
    else if (auto back = job->retries.take())
      record.emplace(std::move(*back));
    else
      continue;
    auto& r = *record;
    bool stale = false; // deadlines (issue 14): the total from the first take; the queue wait
    if (Policies && !ec && (total_deadline.count() > 0 || stamp))
    {
      const auto now = std::chrono::steady_clock::now();
      r.deadline = policy::item_deadline(total_deadline, now);
      stale = policy::waited_too_long(queue_wait, submitted, now);
    }

    while (Policies && !job->window_admits(r.sequence, index))
    {
      if (!guard.shielded())
        co_await guard.shield();
      co_await park(self, watch);
    }

    for (;;) // one pass per attempt
    {
      if (Policies && stale && !job->cancel_requested())
      {
        r.status = task_status::expired_in_queue; // never run (issue 14)
        break;
      }
      if (job->gate.active() && !job->cancel_requested()
          && co_await wait_for_start(*job, self, guard, watch))
        continue; // the pause was extended meanwhile
      if (job->cancel_requested())
        break; // not run (again): cancelled, or the last attempt's outcome
      if (Policies && r.deadline != policy::no_deadline
          && !policy::may_start(r.deadline, std::chrono::steady_clock::now()))
      {
        r.status = task_status::expired; // the total deadline (issue 14), after the rate limit
        break;
      }
      // The circuit breaker (issue 14), after the rate limit.
      std::uint64_t ticket = 0;
      if constexpr (Policies)
        if (job->breaker)
        {
          const auto a = job->breaker_admit(std::chrono::steady_clock::now());
          if (a.kind == policy::admission::unavailable)
            job->give_up(); // the job is cancelled: the next pass ends the item
          else if (a.kind == policy::admission::wait)
            co_await wait_for_breaker(self, guard, watch, policy::earlier(a.until, r.deadline));
          if (a.kind != policy::admission::go)
            continue; // the rate limit again, then the breaker
          ticket = a.ticket;
        }
      if (guard.shielded())
        co_await guard.lift(); // terminal cancellation reaches the task again
      watch.start();
      const auto epoch = begin_attempt<Policies>(*job, self, r, timed);
      std::optional<std::chrono::nanoseconds> pushback;
      try
      {
        if (!is_async)
          r.value.emplace(invoke_sync(*job, r.item));
        else // the task named first: g++ 12 destroys co_await temporaries twice
        {
          auto task = job->async_fn(r.item);
          if constexpr (std::is_void_v<Result>)
            co_await std::move(task);
          else
            r.value.emplace(co_await std::move(task));
        }
        if constexpr (std::is_void_v<Result>)
          r.value.emplace();
        r.status = task_status::succeeded;
      }
      catch (...)
      {
        pushback = note_failure(r, timed && self.deadline->fired(), job->cancel_requested());
      }
      if (timed && self.deadline->disarm()) // the expiry cancelled our state
        co_await asio::this_coro::reset_cancellation_state();
      r.duration = watch.stop();
      if (!Policies && !pushback)
        break;
      const auto next = after_attempt(*job, record, pushback, epoch, ticket);
      if (next.step == policy::next_step::deliver || !record)
        break; // final, or set aside for a retry
      watch.invalidate();
      if (next.step == policy::next_step::retry_here)
        co_await wait_for_retry(self, guard, next.delay);
    }
    if (!record)
      continue; // waiting aside for its retry
    if (Policies && fail_fast && policy::fails_job(r.status))
      job->fail_fast(r); // before sending: the job stops now, not when the result is handled

    if (!results.try_send(record))
    {
      watch.invalidate();
      if (!guard.shielded())
        co_await guard.shield();
      co_await results.async_send(record, asio::deferred);
    }
    if (Policies && job->open.worker_releases() && job->open.release())
    {
      ended_input = true;
      break;
    }
  }

  if (!guard.shielded()) // first: a cancelled state would make co_await throw
    co_await guard.shield();
  co_await leave_the_job(*job, ended_input);
}

} // namespace jobrunner::detail

#endif
