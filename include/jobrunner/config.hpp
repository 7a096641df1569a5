// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_CONFIG_HPP
#define JOBRUNNER_CONFIG_HPP

#include <cstddef>
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
 * Rejected at construction with `std::invalid_argument`: `workers == 0` and
 * `workers > max_workers`.
 */
struct JobConfig
{
  static constexpr std::size_t max_workers = std::size_t{1} << 20;

  std::size_t workers = 50;
  std::size_t work_queue_capacity = 100;
  std::size_t result_queue_capacity = 100;

  /// Throws `std::invalid_argument` describing the first invalid field.
  void validate() const
  {
    if (workers == 0)
      throw std::invalid_argument("jobrunner: JobConfig::workers must be at least 1");
    if (workers > max_workers)
      throw std::invalid_argument("jobrunner: JobConfig::workers is " + std::to_string(workers)
                                  + ", more than the limit of " + std::to_string(max_workers));
  }
};

} // namespace jobrunner

#endif
