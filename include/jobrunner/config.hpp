// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_CONFIG_HPP
#define JOBRUNNER_CONFIG_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace jobrunner {

/// The sizes of a job: how many workers, how many messages each channel buffers.
/**
 * Memory held by a running job is bounded by
 * `work_queue_capacity + result_queue_capacity + 2 * workers + producers`
 * items, whatever the number of items the producers generate.
 *
 * - `workers`: the number of worker coroutines, so the number of tasks in
 *   flight at once. Default 50.
 * - `work_queue_capacity`: items a producer may run ahead of the workers.
 *   A producer's `submit` suspends while the queue is full. Default 100 (2 x
 *   the default workers): deep enough that producers and workers rarely wait
 *   for each other on the fast path, small enough to be negligible in memory.
 *   0 makes the queue a rendezvous (each submit waits for a worker).
 * - `result_queue_capacity`: results that may wait for the task-complete
 *   callback. A slow callback blocks workers only once this queue is full.
 *   Default 100.
 *
 * Policies for calling real APIs (all off by default):
 * - `task_timeout`: an asynchronous task still running after this long
 *   receives terminal cancellation (its Asio operations end with
 *   `operation_aborted`) and is reported as `task_status::timed_out`. A
 *   synchronous function is never interrupted. Zero: no timeout.
 * - `failure_budget`: the job is aborted (`job_status::aborted`; the items not
 *   yet run are reported as cancelled) after `max_failures` failures, or once
 *   at least `min_results` results are in and the failure ratio exceeds
 *   `max_failure_ratio`. Failures are `failed` and `timed_out` results. Zero
 *   fields are off.
 * - `rate_limit`: at most `per_second` task starts a second, shared by all
 *   workers, with bursts of up to `burst` (in any window of d seconds at most
 *   `per_second * d + burst` starts). A worker waits for its start holding
 *   its slot. 0: no limit.
 * - `max_pushbacks`: a task that throws `jobrunner::retry_after` (server
 *   push-back) pauses dispatch for every worker for the delay it gives, and
 *   its item runs again after the pause, at most this many times (then it
 *   fails with that exception). 0: push-back pauses, but the item fails.
 *
 * Rejected at construction with `std::invalid_argument`: `workers == 0`,
 * `workers > max_workers`, a negative `task_timeout`, a `max_failure_ratio`
 * outside [0, 1], a negative or NaN rate, a zero burst with a rate.
 */
struct JobConfig
{
  static constexpr std::size_t max_workers = std::size_t{1} << 20;

  std::size_t workers = 50;
  std::size_t work_queue_capacity = 100;
  std::size_t result_queue_capacity = 100;

  std::chrono::nanoseconds task_timeout{0};

  struct FailureBudget
  {
    std::uint64_t max_failures = 0; ///< abort at this many failures; 0: no limit
    double max_failure_ratio = 0;   ///< abort above this ratio of failures; 0: no limit
    std::uint64_t min_results = 0;  ///< ... once at least this many results are in
  } failure_budget;

  struct RateLimit
  {
    double per_second = 0; ///< at most this many task starts a second; 0: no limit
    std::size_t burst = 1; ///< starts allowed at once on top of the rate (at least 1)
  } rate_limit;

  /// How many times one item is run again after a task threw `retry_after`.
  std::size_t max_pushbacks = 10;

  /// Throws `std::invalid_argument` describing the first invalid field.
  void validate() const
  {
    if (workers == 0)
      throw std::invalid_argument("jobrunner: JobConfig::workers must be at least 1");
    if (workers > max_workers)
      throw std::invalid_argument("jobrunner: JobConfig::workers is " + std::to_string(workers)
                                  + ", more than the limit of " + std::to_string(max_workers));
    if (task_timeout.count() < 0)
      throw std::invalid_argument("jobrunner: JobConfig::task_timeout must not be negative");
    if (!(rate_limit.per_second >= 0 && rate_limit.per_second <= 1e9))
      throw std::invalid_argument(
          "jobrunner: JobConfig::rate_limit.per_second must be within [0, 1e9]");
    if (rate_limit.per_second > 0 && rate_limit.burst == 0)
      throw std::invalid_argument("jobrunner: JobConfig::rate_limit.burst must be at least 1");
    if (!(failure_budget.max_failure_ratio >= 0 && failure_budget.max_failure_ratio <= 1))
      throw std::invalid_argument(
          "jobrunner: JobConfig::failure_budget.max_failure_ratio must be within [0, 1]");
  }
};

} // namespace jobrunner

#endif
