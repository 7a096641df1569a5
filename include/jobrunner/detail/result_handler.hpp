// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_RESULT_HANDLER_HPP
#define JOBRUNNER_DETAIL_RESULT_HANDLER_HPP

// The result-handler role: the one coroutine that drains the result channel,
// counts each result and invokes the task-complete callback. Being a single
// coroutine, it never runs two callbacks at once. No signal is bound to it: it
// stops at the end marker the last worker sends, after every result.
// Policies before delivery: the reorder buffer (ordered delivery) and the
// failure budget.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/policy/failure_budget.hpp>
#include <jobrunner/detail/policy/reorder.hpp>
#include <jobrunner/task_result.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

namespace jobrunner::detail {

// Counts one result, applies the failure budget, invokes the callback.
template <class State>
void deliver(State& job, typename State::task_result& r, bool budgeted, bool breaker)
{
  if (breaker) // circuit breaker (issue 14)
    job.mark_unavailable(r);
  job.outcomes.count(r.status);
  if (budgeted && policy::over_budget(job.config().failure_budget, job.outcomes.counts()))
    job.abort(); // idempotent: the job is cancelled once
  if (r.error || r.value)
    job.outcomes.latencies.record(static_cast<std::uint64_t>(r.duration.count()));
  if (job.on_task)
  {
    try
    {
      job.on_task(r);
    }
    catch (...)
    {
      job.outcomes.record_callback_error(std::current_exception());
    }
  }
}

template <class Item, class Result, class Threading>
asio::awaitable<void> run_result_handler(std::shared_ptr<job_state<Item, Result, Threading>> job)
{
  using state = job_state<Item, Result, Threading>;
  using result_message = typename state::result_message;
  auto& results = job->results();
  const bool budgeted = policy::budgeted(job->config().failure_budget);
  const bool breaker = job->breaker.has_value();
  auto deliver_one = [&job, budgeted, breaker](typename state::task_result& r) {
    deliver(*job, r, budgeted, breaker);
  };
  std::optional<policy::reorder_buffer<typename state::task_result>> reorder;
  if (job->config().ordered_delivery)
    reorder.emplace(job->config().window());

  for (;;)
  {
    // Emplaced, never assigned: Item and Result need only be move-constructible.
    result_message record;
    error_code ec;
    if (!results.try_receive([&](error_code e, result_message&& m) {
          ec = e;
          if (m)
            record.emplace(std::move(*m));
        }))
    {
      auto [e, m] = co_await results.async_receive(asio::as_tuple(asio::deferred));
      ec = e;
      if (m)
        record.emplace(std::move(*m));
    }
    if (ec) // the end marker: every worker has finished
      break;
    if (!reorder)
    {
      deliver_one(*record);
      continue;
    }
    const auto before = reorder->next();
    reorder->push(std::move(*record), deliver_one);
    if (reorder->next() != before)
      job->window_delivered(reorder->next());
  }
  if (reorder)
    reorder->flush(deliver_one);
}

} // namespace jobrunner::detail

#endif
