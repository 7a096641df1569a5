// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_TASK_STOPWATCH_HPP
#define JOBRUNNER_DETAIL_TASK_STOPWATCH_HPP

#include <jobrunner/detail/task_clock.hpp>

#include <chrono>

namespace jobrunner::detail {

// A worker's stopwatch: one clock read per task on the fast path, where the
// end of one task is the start of the next (the worker did not suspend in
// between); invalidate() when it suspends.
class task_stopwatch
{
public:
  void invalidate() noexcept { valid_ = false; }
  void start() noexcept
  {
    if (!valid_)
      mark_ = clock_.now();
  }
  std::chrono::nanoseconds stop() noexcept
  {
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
};

} // namespace jobrunner::detail

#endif
