// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_JOB_SUMMARY_OF_HPP
#define JOBRUNNER_DETAIL_JOB_SUMMARY_OF_HPP

// A job's figures as the user sees them: JobStats while it runs
// (JobRunner::stats), the JobSummary at its end (built by the controller),
// read from the job state's counters.

#include <jobrunner/job_summary.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>

namespace jobrunner::detail {

template <class State>
JobStats stats_of(const State& job) noexcept
{
  JobStats s;
  const auto c = job.outcomes.counts();
  s.succeeded = c.succeeded;
  s.failed = c.failed;
  s.cancelled = c.cancelled;
  s.timed_out = c.timed_out;
  s.unavailable = c.unavailable;
  s.expired = c.expired; // deadlines (issue 14)
  s.expired_in_queue = c.expired_in_queue;
  const auto taken = job.input.taken();
  s.submitted = job.input.submitted();
  s.queued = s.submitted > taken ? s.submitted - taken : 0;
  s.in_flight = taken > s.done() ? taken - s.done() : 0;
  s.concurrency_limit = job.limit ? job.limit->current() : job.config().workers;
  s.keys_tracked = job.keys ? job.keys->tracked() : 0; // per-key limits (issue 14)
  s.keys_tracked_peak = job.keys ? job.keys->peak() : 0;
  return s;
}

template <class State>
JobSummary summary_of(const State& job)
{
  JobSummary s;
  s.status = job.failed_fast.load(std::memory_order_acquire) ? job_status::failed
             : job.aborted.load(std::memory_order_acquire)   ? job_status::aborted
             : job.gave_up.load(std::memory_order_acquire)   ? job_status::unavailable
             : job.cancel_requested()                        ? job_status::cancelled
             : job.drained()                                 ? job_status::drained
                                                             : job_status::completed;
  s.event_errors = job.event_errors.load(std::memory_order_relaxed);
  s.first_failure = job.first_failure;
  const auto c = job.outcomes.counts();
  s.submitted = job.input.submitted();
  s.succeeded = c.succeeded;
  s.failed = c.failed;
  s.cancelled = c.cancelled;
  s.timed_out = c.timed_out;
  s.unavailable = c.unavailable;
  s.expired = c.expired; // deadlines (issue 14)
  s.expired_in_queue = c.expired_in_queue;
  s.breaker_opened = job.breaker_opened();
  s.retries_refused = job.retries_refused.load();
  s.retried = job.retried.load();
  s.paused = job.gate.paused_total();
  job.producer_failures.fill(s);
  s.callback_errors = job.outcomes.callback_errors;
  s.first_callback_error = job.outcomes.first_callback_error;
  s.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now()
                                                                   - job.start_time);
  const auto secs = std::chrono::duration<double>(s.elapsed).count();
  s.items_per_second = secs > 0 ? static_cast<double>(s.submitted) / secs : 0.0;
  const auto& h = job.outcomes.latencies;
  s.latency.count = h.count();
  s.latency.p50 = std::chrono::nanoseconds(h.percentile(0.50));
  s.latency.p90 = std::chrono::nanoseconds(h.percentile(0.90));
  s.latency.p99 = std::chrono::nanoseconds(h.percentile(0.99));
  s.latency.max = std::chrono::nanoseconds(h.max());
  s.max_queue_depth = static_cast<std::size_t>(job.input.max_depth());
  s.lowest_concurrency_limit = job.limit ? job.limit->lowest() : job.config().workers;
  return s;
}

} // namespace jobrunner::detail

#endif
