// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_TIMEOUT_HPP
#define JOBRUNNER_DETAIL_POLICY_TIMEOUT_HPP

// JobConfig::task_timeout: a deadline each worker owns. Armed before a task
// starts, it emits the worker's own cancellation signal on expiry, which
// interrupts the task's pending operation; disarmed after the task. The task
// number makes a late expiry (the task already over) a no-op.

#include <jobrunner/detail/asio.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace jobrunner::detail::policy {

class task_deadline
{
public:
  // `signal` and `finished` belong to the worker and outlive the timer's
  // handler as long as `alive` (the job) does.
  void arm(const asio::any_io_executor& ex, asio::cancellation_signal& signal, const bool& finished,
           std::chrono::nanoseconds timeout, std::shared_ptr<const void> alive)
  {
    if (!timer_)
      timer_.emplace(ex);
    fired_ = false;
    const auto task = ++task_;
    timer_->expires_after(timeout);
    timer_->async_wait([this, &signal, &finished, task, alive = std::move(alive)](error_code ec) {
      if (ec || task_ != task || finished)
        return;
      fired_ = true;
      signal.emit(asio::cancellation_type::terminal);
    });
  }

  // Whether the deadline of the running task has expired.
  bool fired() const noexcept { return fired_; }

  // After the task: stops the timer; returns whether it had fired (then the
  // worker's cancellation state is cancelled and must be reset).
  bool disarm() noexcept
  {
    ++task_;
    timer_->cancel();
    const bool was = fired_;
    fired_ = false;
    return was;
  }

private:
  std::optional<asio::steady_timer> timer_;
  std::uint64_t task_ = 0;
  bool fired_ = false;
};

} // namespace jobrunner::detail::policy

#endif
