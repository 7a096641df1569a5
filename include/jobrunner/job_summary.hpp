// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_JOB_SUMMARY_HPP
#define JOBRUNNER_JOB_SUMMARY_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iosfwd>
#include <string_view>

namespace jobrunner {

/// How a job ended.
enum class job_status
{
  completed, ///< every producer finished and every submitted item ran
  cancelled, ///< `cancel()` or the operation's cancellation slot stopped the job
  aborted,   ///< the failure budget (`JobConfig::failure_budget`) was exceeded
  // --- fail-fast (issue 13 item 4) ---
  failed, ///< an item failed with `JobConfig::fail_fast` set; see `JobSummary::first_failure`
  // --- drain (issue 13 item 5) ---
  drained, ///< `drain()` stopped the input; every item submitted before it finished
  // --- circuit breaker (issue 14) ---
  /// The circuit breaker stayed open for `JobConfig::circuit_breaker.give_up_after`:
  /// the service is unavailable; the items not run are reported `task_status::unavailable`.
  unavailable,
};

/// The enumerator's name, e.g. "completed"; "unknown" for a value out of range.
constexpr std::string_view to_string(job_status s) noexcept
{
  switch (s)
  {
  case job_status::completed:
    return "completed";
  case job_status::cancelled:
    return "cancelled";
  case job_status::aborted:
    return "aborted";
  case job_status::failed:
    return "failed";
  case job_status::drained:
    return "drained";
  case job_status::unavailable:
    return "unavailable";
  }
  return "unknown";
}

/// Writes `to_string(s)` (include `<ostream>` to use it).
template <class Traits>
std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& os, job_status s)
{
  return os << to_string(s).data(); // the names are literals: null-terminated
}

/// Task durations over the tasks that ran (succeeded, failed, timed out, or cancelled in flight).
/**
 * Percentiles come from a log-linear histogram and are exact to about 3%;
 * `max` is exact. All zero when no task ran, and with
 * `JobConfig::measure_durations` off.
 */
struct LatencySummary
{
  /// Tasks measured.
  std::uint64_t count = 0;
  /// The median task duration.
  std::chrono::nanoseconds p50{0};
  /// The 90th percentile.
  std::chrono::nanoseconds p90{0};
  /// The 99th percentile.
  std::chrono::nanoseconds p99{0};
  /// The longest task (exact).
  std::chrono::nanoseconds max{0};
};

/// What the job-complete callback and `async_run` receive when a job ends.
/**
 * Invariant: `submitted == succeeded + failed + cancelled + timed_out + unavailable + expired +
 * expired_in_queue`, and
 * it equals the number of task-complete callbacks that were invoked.
 */
struct JobSummary
{
  /// How the job ended: completed, cancelled or aborted.
  job_status status = job_status::completed;

  std::uint64_t submitted = 0; ///< items producers handed to the work queue
  /// Items whose result is `task_status::succeeded`.
  std::uint64_t succeeded = 0;
  /// Items whose result is `task_status::failed`.
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;        ///< queued items dropped, or tasks in flight cancelled
  std::uint64_t timed_out = 0;        ///< tasks cancelled by `JobConfig::task_timeout`
  std::uint64_t retried = 0;          ///< extra runs of items (retries and push-back)
  std::chrono::nanoseconds paused{0}; ///< time dispatch was paused by push-back

  // --- circuit breaker (issue 14) ---
  std::uint64_t unavailable = 0;    ///< items reported `task_status::unavailable`
  std::uint64_t breaker_opened = 0; ///< how many times the circuit breaker opened

  // --- retry budget (issue 14) ---
  std::uint64_t retries_refused = 0; ///< retries not made: over `JobConfig::retry_budget`

  // --- deadlines (issue 14) ---
  std::uint64_t expired = 0;          ///< items reported `task_status::expired`
  std::uint64_t expired_in_queue = 0; ///< items reported `task_status::expired_in_queue`

  std::uint64_t producer_errors = 0;       ///< producers that ended with an exception
  std::uint64_t callback_errors = 0;       ///< task-complete callbacks that threw
  std::exception_ptr first_producer_error; ///< the first of those exceptions, if any
  std::exception_ptr first_callback_error; ///< the first of those exceptions, if any
  /// What the job-complete callback threw, if it threw (`async_run` then
  /// completes with `errc::job_complete_callback_failed`, whatever `status`).
  std::exception_ptr job_callback_error;

  std::chrono::nanoseconds elapsed{0}; ///< from the job's start to its end
  double items_per_second = 0;         ///< submitted / elapsed
  /// Task durations.
  LatencySummary latency;
  std::size_t max_queue_depth = 0; ///< the most items seen waiting in the work queue
  /// The lowest limit on active workers (`JobConfig::adaptive_concurrency`); else `workers`.
  std::size_t lowest_concurrency_limit = 0;

  // --- fail-fast (issue 13 item 4) ---
  /// With `JobConfig::fail_fast`: the exception of the item that failed the
  /// job (`status == job_status::failed`), a `system_error` with
  /// `asio::error::timed_out` for a timeout; null otherwise.
  std::exception_ptr first_failure;

  // --- events (issue 13 item 6) ---
  std::uint64_t event_errors = 0; ///< calls of the `on_event` hook that threw
};

/// A snapshot of a job in progress; see `JobRunner::stats()`.
/**
 * Each field is read separately (relaxed), so a snapshot taken while the job
 * runs is consistent only approximately; once the job has ended it is exact.
 */
struct JobStats
{
  /// Items accepted into the work queue so far. An item whose submit waits
  /// for room counts from the start of that wait (a worker may take it before
  /// the submitter resumes), and no longer if that submit is cancelled.
  std::uint64_t submitted = 0;
  std::uint64_t queued = 0; ///< submitted, not yet taken by a worker
  /// Taken by a worker (or waiting for a retry), result not yet handled.
  std::uint64_t in_flight = 0;
  std::uint64_t succeeded = 0; ///< results handled, by status
  /// Items whose result is `task_status::failed`.
  std::uint64_t failed = 0;
  /// Items whose result is `task_status::cancelled`.
  std::uint64_t cancelled = 0;
  /// Items whose result is `task_status::timed_out`.
  std::uint64_t timed_out = 0;
  std::uint64_t unavailable = 0; ///< circuit breaker (issue 14)
  // --- deadlines (issue 14) ---
  std::uint64_t expired = 0;          ///< items reported `task_status::expired`
  std::uint64_t expired_in_queue = 0; ///< items reported `task_status::expired_in_queue`
  /// Workers allowed to take items now (`JobConfig::adaptive_concurrency`); else `workers`.
  std::size_t concurrency_limit = 0;
  // --- per-key limits (issue 14) ---
  std::size_t keys_tracked = 0;      ///< keys whose state `per_key` holds now
  std::size_t keys_tracked_peak = 0; ///< the most keys `per_key` held at once so far

  /// Results handled so far, whatever their status.
  std::uint64_t done() const noexcept
  {
    return succeeded + failed + cancelled + timed_out + unavailable + expired + expired_in_queue;
  }
};

} // namespace jobrunner

#endif
