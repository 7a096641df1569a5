// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_RESULT_HANDLER_HPP
#define JOBRUNNER_DETAIL_RESULT_HANDLER_HPP

// The result-handler role: the one coroutine that drains the result channel,
// counts each result and invokes the task-complete callback. Being a single
// coroutine, it never runs two callbacks at once. No signal is bound to it: it
// stops at the end marker the last worker sends, after every result.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/worker.hpp>
#include <jobrunner/task_result.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

namespace jobrunner::detail {

// Whether the failures so far exceed JobConfig::failure_budget.
template <class State>
bool over_budget(const State& job) noexcept
{
  const auto& budget = job.config().failure_budget;
  const auto failures = job.failed.load() + job.timed_out.load();
  if (budget.max_failures != 0 && failures >= budget.max_failures)
    return true;
  if (budget.max_failure_ratio > 0)
  {
    const auto results = job.succeeded.load() + job.cancelled.load() + failures;
    return results >= budget.min_results
           && static_cast<double>(failures)
                  > budget.max_failure_ratio * static_cast<double>(results);
  }
  return false;
}

// Counts one result, applies the failure budget, invokes the callback.
template <class State, class TaskResultT>
void deliver(State& job, TaskResultT& r, bool budgeted)
{
  switch (r.status)
  {
  case task_status::succeeded:
    job.succeeded.add();
    break;
  case task_status::failed:
    job.failed.add();
    break;
  case task_status::cancelled:
    job.cancelled.add();
    break;
  case task_status::timed_out:
    job.timed_out.add();
    break;
  }
  if (budgeted && (r.status == task_status::failed || r.status == task_status::timed_out)
      && over_budget(job))
    job.abort(); // idempotent: the job is cancelled once
  if (r.error || r.value)
    job.latencies.record(static_cast<std::uint64_t>(r.duration.count()));

  if (job.on_task)
  {
    try
    {
      job.on_task(r);
    }
    catch (...)
    {
      if (job.callback_errors++ == 0)
        job.first_callback_error = std::current_exception();
    }
  }
}

template <class Item, class Result, class Threading>
asio::awaitable<void> run_result_handler(std::shared_ptr<job_state<Item, Result, Threading>> job)
{
  using result_message = typename job_state<Item, Result, Threading>::result_message;
  auto& results = job->results();
  const auto& config = job->config();
  const auto& budget = config.failure_budget;
  const bool budgeted = budget.max_failures != 0 || budget.max_failure_ratio > 0;

  // JobConfig::ordered_delivery: results that arrive ahead of the next one
  // wait in a ring indexed by sequence. Workers start item s only once
  // s < next + window, so every waiting result has a slot of its own.
  const bool ordered = config.ordered_delivery;
  std::vector<result_message> reorder(ordered ? config.window() : 0);
  std::uint64_t next = 0;

  for (;;)
  {
    result_message record;
    error_code ec;
    if (!results.try_receive([&](error_code e, result_message&& m) {
          ec = e;
          move_into(record, std::move(m));
        }))
    {
      auto [e, m] = co_await results.async_receive(asio::as_tuple(asio::deferred));
      ec = e;
      move_into(record, std::move(m));
    }
    if (ec) // the end marker: every worker has finished
      break;

    if (!ordered)
    {
      deliver(*job, *record, budgeted);
      continue;
    }
    if (record->sequence != next)
    {
      move_into(reorder[record->sequence % reorder.size()], std::move(record));
      continue;
    }
    deliver(*job, *record, budgeted);
    ++next;
    for (auto* waiting = &reorder[next % reorder.size()]; *waiting && (*waiting)->sequence == next;
         waiting = &reorder[next % reorder.size()])
    {
      deliver(*job, **waiting, budgeted);
      waiting->reset();
      ++next;
    }
    job->set_delivered(next);
  }

  // Every item taken has a result, so nothing is left here; should a
  // sequence ever be missing, the rest is still delivered, in order.
  if (ordered)
  {
    std::vector<result_message*> left;
    for (auto& waiting : reorder)
      if (waiting)
        left.push_back(&waiting);
    std::sort(left.begin(), left.end(),
              [](const auto* x, const auto* y) { return (*x)->sequence < (*y)->sequence; });
    for (auto* waiting : left)
      deliver(*job, **waiting, budgeted);
  }
}

} // namespace jobrunner::detail

#endif
