// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_DELIVERY_HPP
#define JOBRUNNER_DETAIL_DELIVERY_HPP

// Delivering one result: the breaker's marking, the count, the failure
// budget, the latency, the task-complete callback. The result handler does
// it (result_handler.hpp). On single_threaded, when results are neither
// reordered, pulled, nor release an input that ends when idle, the worker
// that finished the task does it itself (deliver_here): on one thread no two
// deliveries can overlap anyway, and the result queue would only move the
// record in and out and wake the handler. The queue then carries only the
// end marker, and the handler only waits for it.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/policy/failure_budget.hpp>
#include <jobrunner/detail/task_stopwatch.hpp>

#include <cstdint>
#include <exception>

namespace jobrunner::detail {

// Decided once, before the job's coroutines start.
struct delivery_plan
{
  bool direct = false;   // workers deliver (see above)
  bool budgeted = false; // a failure budget is set
  bool breaker = false;  // a circuit breaker is set (issue 14)
  bool timed = true;     // tasks are timed: their durations make the latency summary
};

template <class State>
delivery_plan plan_delivery(const State& job) noexcept
{
  delivery_plan p;
  p.direct = !State::threading::concurrent && !job.config().ordered_delivery
             && !job.puller.enabled() && !job.open.result_side_releases();
  p.budgeted = policy::budgeted(job.config().failure_budget);
  p.breaker = job.breaker.has_value();
  p.timed = job.config().timed_tasks();
  return p;
}

// Counts one result, applies the failure budget, invokes the callback.
template <class State>
void deliver(State& job, typename State::task_result& r)
{
  if (job.delivery.breaker)
    job.mark_unavailable(r);
  job.outcomes.count(r.status);
  if (job.delivery.budgeted)
    if (const auto c = job.outcomes.counts(); policy::over_budget(job.config().failure_budget, c))
      job.abort(c.failures()); // idempotent: the job is cancelled once
  if (job.delivery.timed && (r.error || r.value))
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

// The worker's side: true if it delivered `record` itself.
template <class State>
bool deliver_here(State& job, typename State::result_message& record, task_stopwatch& watch)
{
  if (!job.delivery.direct)
    return false;
  deliver(job, *record);
  watch.invalidate(); // the callback's time is no task's
  return true;
}

} // namespace jobrunner::detail

#endif
