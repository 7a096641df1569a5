// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_TASK_STOPWATCH_HPP
#define JOBRUNNER_DETAIL_TASK_STOPWATCH_HPP

#include <jobrunner/detail/task_clock.hpp>

#include <chrono>

namespace jobrunner::detail {

// A worker's stopwatch: one clock read per task on the fast path, where the
// end of one task is the start of the next (the worker did not suspend in
// between); invalidate() when it suspends. Off (JobConfig::measure_durations),
// it reads no clock and every duration is 0.
class task_stopwatch
{
public:
  explicit task_stopwatch(bool on) noexcept : on_(on) {}
  void invalidate() noexcept { valid_ = false; }
  void start() noexcept
  {
    if (on_ && !valid_)
      mark_ = clock_.now();
  }
  std::chrono::nanoseconds stop() noexcept
  {
    if (!on_)
      return std::chrono::nanoseconds{0};
    const auto end = clock_.now();
    const auto d = clock_.to_duration(end - mark_);
    mark_ = end;
    valid_ = true;
    return d;
  }

private:
  const task_clock& clock_ = task_clock::instance();
  task_clock::ticks mark_ = 0;
  bool valid_ = false;
  bool on_;
};

} // namespace jobrunner::detail

#endif
