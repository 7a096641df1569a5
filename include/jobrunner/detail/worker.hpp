// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_WORKER_HPP
#define JOBRUNNER_DETAIL_WORKER_HPP

// The worker role, the per-item hot path: take an item, run the function, hand
// the result on (delivery.hpp). Policies plug in at (policy/, worker_steps.hpp):
// 1. before taking, adaptive concurrency; 2. before a start, per-key limits,
// reorder window, push-back, rate limit, breaker; 3. timeout; 4. after_attempt().
// run_worker<false> keeps only push-back (2, 4); <true>: policy_support.hpp.

#include <jobrunner/detail/after_attempt.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/delivery.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/policy/deadline.hpp>
#include <jobrunner/detail/worker_keys.hpp>
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
  member& self = job->members[index];
  const std::size_t w = index - job->first_worker;
  const bool is_async = static_cast<bool>(job->async_fn);
  worker_deadlines deadlines(job->config(), Policies); // issue 14; the total cuts the timeout
  const bool timed = Policies && is_async && deadlines.times_attempts(job->config());
  shield_guard guard(self.shield);
  task_stopwatch watch(job->config().timed_tasks());
  bool ended_input = false; // this worker's final result ended the input

  for (;;)
  {
    if constexpr (Policies) // adaptive concurrency: park above the limit, holding no item
      while (job->limit && !job->limit->admit_or_park(index - job->first_worker))
      {
        co_await guard.shield(); // first: a cancelled state would make co_await throw
        co_await park(self, watch);
      }

    typename job_state<Item, Result, Threading>::result_message record;
    error_code ec;
    auto take = take_into<decltype(record), work_message<Item>, Policies>(record, ec, deadlines);
    if ((Policies && job->receive_pending()) || !job->work().try_receive(take))
    {
      watch.invalidate();
      if (!guard.shielded() && !guard.try_shield())
        co_await guard.shield();
      job->receive_started();
      auto [e, m] = co_await receive_shielded<work_message<Item>>(job->work());
      job->receive_finished();
      take(e, std::move(m));
    }
    if (!ec)
      record->sequence = job->input.on_taken();
    else if (const auto back = take_back<Policies>(*job, ec, record, w); back == taken_back::end)
      break; // input is over
    else if (back == taken_back::nothing)
      continue;
    const bool stale = Policies && !ec && deadlines.on_take(*record); // waited too long (issue 14)
    if constexpr (Policies) // per-key limits (issue 14): set aside until its key allows it
      if (by_key(*job, ec, stale) && !co_await admit_by_key(*job, self, guard, watch, record, w))
        continue;
    auto& r = *record;

    while (Policies && !job->window_admits(r.sequence, index))
    {
      co_await guard.shield();
      co_await park(self, watch);
    }

    for (;;) // one pass per attempt
    {
      if (job->gate.active() && !stale && !job->cancel_requested()
          && co_await wait_for_start(*job, self, guard, watch))
        continue; // the pause was extended meanwhile
      if (job->cancel_requested())
        break; // not run (again): cancelled, or the last attempt's outcome
      if (Policies && expires_before_start(r, stale)) // deadlines (issue 14)
        break;
      const auto pass = admit_past_breaker<Policies>(*job); // issue 14, after the rate limit
      if (pass.kind == policy::admission::wait)
        co_await wait_for_breaker(self, guard, watch, policy::earlier(pass.until, r.deadline));
      if (pass.kind != policy::admission::go)
        continue;   // the rate limit again, then the breaker
      guard.lift(); // terminal cancellation reaches the task again
      watch.start();
      const auto started = begin_attempt<Policies>(*job, self, r, timed);
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
        co_await guard.reset();
      r.duration = watch.stop();
      if (!Policies && !pushback)
        break;
      const auto next = after_attempt<Policies>(*job, record, pushback, started, pass.ticket);
      if (next.step == policy::next_step::deliver || !record)
        break;                // final, or set aside for a retry
      if constexpr (Policies) // the lean worker never retries on itself
        if (next.step == policy::next_step::retry_here)
          co_await wait_for_retry(self, guard, watch, next.delay);
    }
    if (!key_finished<Policies>(*job, w, record)) // per-key limits (issue 14): the slot freed
      continue;                                   // waiting aside for its retry
    if (!deliver_here(*job, record, watch) && !job->results().try_send(record))
    {
      watch.invalidate();
      if (!guard.shielded() && !guard.try_shield())
        co_await guard.shield();
      co_await send_shielded(job->results(), record);
    }
    ended_input = Policies && job->open.worker_releases() && job->open.release();
    if (ended_input)
      break;
  }

  co_await guard.shield(); // first: a cancelled state would make co_await throw
  co_await leave_the_job(*job, ended_input);
}

} // namespace jobrunner::detail

#endif
