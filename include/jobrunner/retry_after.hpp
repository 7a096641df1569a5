// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_RETRY_AFTER_HPP
#define JOBRUNNER_RETRY_AFTER_HPP

#include <chrono>
#include <stdexcept>
#include <string>

namespace jobrunner {

/// Thrown by a task to report server push-back ("wait, then try again").
/**
 * For an HTTP 429 or 503 with `Retry-After: 5`, a task throws
 * `jobrunner::retry_after(std::chrono::seconds(5))`. The runner then pauses
 * dispatch for every worker for that long (tasks already running go on),
 * and runs the same item again once the pause is over, up to
 * `JobConfig::max_pushbacks` times; after that the item fails with this
 * exception. A negative delay counts as zero.
 */
class retry_after : public std::runtime_error
{
public:
  /// Asks to run the item again after `delay` (negative: 0); `what` is the exception's message.
  explicit retry_after(std::chrono::nanoseconds delay,
                       const std::string& what = "jobrunner: the server asked to retry later")
      : std::runtime_error(what), delay_(delay.count() < 0 ? std::chrono::nanoseconds(0) : delay)
  {}

  /// How long the server asked to wait.
  std::chrono::nanoseconds delay() const noexcept { return delay_; }

private:
  std::chrono::nanoseconds delay_;
};

} // namespace jobrunner

#endif
