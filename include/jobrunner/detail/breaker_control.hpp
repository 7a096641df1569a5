// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_BREAKER_CONTROL_HPP
#define JOBRUNNER_DETAIL_BREAKER_CONTROL_HPP

// The circuit breaker of a running job (issue 14): the pure policy
// (policy/circuit_breaker.hpp) behind a lock, its state changes reported as
// events after the lock, and the error of a job it gave up on. Which
// results are failures, and waking the waiting workers, are job_state's.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/policy/circuit_breaker.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/event.hpp>
#include <jobrunner/task_result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>

namespace jobrunner::detail {

template <class TaskResult>
class breaker_control
{
public:
  using clock = std::chrono::steady_clock;

  explicit breaker_control(const JobConfig::CircuitBreaker& c) : breaker_(c) {}

  // `report(kind, value, time)` is called after the lock for a change of state.
  template <class Report>
  policy::admission admit(clock::time_point now, Report&& report)
  {
    policy::admission a;
    transition t;
    {
      std::lock_guard lock(mutex_);
      const auto before = breaker_.state();
      a = breaker_.admit(now);
      t = transition_of(before);
    }
    announce(t, now, report);
    return a;
  }

  // The outcome of an attempt admitted with `ticket`. True: wake the
  // waiting workers (it closed, or gave a probe back).
  template <class Report>
  bool outcome(std::uint64_t ticket, policy::call_outcome o, clock::time_point now, Report&& report)
  {
    bool wake = false;
    transition t;
    {
      std::lock_guard lock(mutex_);
      const auto before = breaker_.state();
      wake = breaker_.on_outcome(ticket, o, now);
      t = transition_of(before);
    }
    announce(t, now, report);
    return wake;
  }

  // True for the first caller only, which ends the job: the error of the
  // items it did not run is then set.
  bool start_giving_up() noexcept
  {
    if (giving_up_.exchange(true))
      return false;
    try
    {
      unavailable_error_ = std::make_exception_ptr(
          boost::system::system_error(make_error_code(errc::service_unavailable)));
    }
    catch (...)
    {
      unavailable_error_ = std::current_exception();
    }
    return true;
  }

  // A result of a job the breaker ended (`gave_up`): what the cancellation
  // cut short (or never ran) is reported unavailable.
  void mark_unavailable(TaskResult& r, bool gave_up) const noexcept
  {
    if (r.status != task_status::cancelled || !gave_up)
      return;
    r.status = task_status::unavailable;
    if (!r.error)
      r.error = unavailable_error_;
  }

  std::uint64_t times_opened() const
  {
    std::lock_guard lock(mutex_);
    return breaker_.times_opened();
  }

private:
  // A change of the breaker's state, read under its lock.
  struct transition
  {
    bool changed = false;
    policy::breaker_state to = policy::breaker_state::closed;
    std::uint64_t opened = 0;
  };

  transition transition_of(policy::breaker_state before) const noexcept
  {
    return {breaker_.state() != before, breaker_.state(), breaker_.times_opened()};
  }

  template <class Report>
  static void announce(const transition& t, clock::time_point now, Report& report)
  {
    if (!t.changed)
      return;
    using policy::breaker_state;
    if (t.to == breaker_state::open)
      report(event_kind::breaker_opened, static_cast<std::int64_t>(t.opened), now);
    else if (t.to == breaker_state::half_open)
      report(event_kind::breaker_half_open, std::int64_t{0}, now);
    else
      report(event_kind::breaker_closed, std::int64_t{0}, now);
  }

  mutable std::mutex mutex_;
  policy::circuit_breaker breaker_;
  std::atomic<bool> giving_up_{false};
  std::exception_ptr unavailable_error_; // written before the job's gave_up is set
};

} // namespace jobrunner::detail

#endif
