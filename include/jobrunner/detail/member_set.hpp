// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_MEMBER_SET_HPP
#define JOBRUNNER_DETAIL_MEMBER_SET_HPP

// The job's cancellable coroutines (producers, then workers): each one's
// executor, the signal bound to it, and where it waits.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/coro_cancellation.hpp>
#include <jobrunner/detail/policy/timeout.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace jobrunner::detail {

// `finished` is touched only on `executor`, where the emits are posted too.
struct member
{
  asio::any_io_executor executor;
  shield_state shield; // a worker's (coro_cancellation.hpp); outlives `signal`'s filter
  asio::cancellation_signal signal;
  bool finished = false;

  // A worker's JobConfig::task_timeout.
  std::optional<policy::task_deadline> deadline;
  // Where a worker waits before a start (rate limit, push-back, a retry's
  // backoff on the worker). Cancellation ends these waits.
  std::optional<asio::steady_timer> gate_timer;
  // Where a worker parks until another coroutine wakes it (the reorder
  // window, adaptive concurrency). Waits here are shielded from
  // cancellation; a wake may be spurious, so the waiter checks again.
  std::optional<asio::steady_timer> park_timer;

  // --- drain (issue 13 item 5): a producer's state, on `executor` ---
  bool sending = false;         // in a submit's waiting send: a drain must not cancel it
  bool stop_after_send = false; // a drain came during that send: cancel after it
  bool input_done = false;      // the user's producer has returned
  // Where a worker waits while the circuit breaker is open or its probes
  // are out (issue 14): until a time, or a wake; cancellation ends it.
  std::optional<asio::steady_timer> breaker_timer;
};

// Parks `m` until wake().
inline auto park(member& m)
{
  if (!m.park_timer)
    m.park_timer.emplace(m.executor);
  m.park_timer->expires_at(asio::steady_timer::time_point::max());
  return m.park_timer->async_wait(asio::as_tuple(asio::deferred));
}

// Waits on `m`'s gate timer until `at`; a cancellation ends the wait.
inline auto wait_until(member& m, asio::steady_timer::time_point at)
{
  if (!m.gate_timer)
    m.gate_timer.emplace(m.executor);
  m.gate_timer->expires_at(at);
  return m.gate_timer->async_wait(asio::as_tuple(asio::deferred));
}

// Waits on `m`'s breaker timer until `at` or wake_breaker_waiters().
inline auto breaker_wait(member& m, asio::steady_timer::time_point at)
{
  if (!m.breaker_timer)
    m.breaker_timer.emplace(m.executor);
  m.breaker_timer->expires_at(at);
  return m.breaker_timer->async_wait(asio::as_tuple(asio::deferred));
}

class member_set
{
public:
  // The controller creates the members, spawns them, and only then
  // publishes them. An emit must not run before a coroutine has started: it
  // would race with co_spawn connecting the slot, and co_spawn's entry point
  // would throw operation_aborted out of io_context::run().
  template <class ExecutorFor>
  void create(std::size_t count, ExecutorFor&& executor_for)
  {
    members_ = std::make_unique<member[]>(count);
    count_ = count;
    for (std::size_t i = 0; i < count; ++i)
      members_[i].executor = executor_for();
  }

  // The job's cancel flag is read *after* the set is published: a cancel
  // racing with the start either sees the set published (and emits) or is
  // seen here (seq_cst on both sides); emitting twice is harmless, missing
  // the emit is not.
  void publish(const std::atomic<bool>& cancelled,
               const std::shared_ptr<const void>& alive) noexcept
  {
    ready_.store(true, std::memory_order_seq_cst);
    if (cancelled.load(std::memory_order_seq_cst))
      emit_all(alive);
  }

  bool published() const noexcept { return ready_.load(std::memory_order_seq_cst); }

  member& operator[](std::size_t i) noexcept { return members_[i]; }

  // Terminal cancellation to every coroutine still running, each on its
  // executor.
  void emit_all(const std::shared_ptr<const void>& alive) noexcept
  {
    for (std::size_t i = 0; i < count_; ++i)
      post_to(i, alive, [](member& m) {
        if (!m.finished)
          m.signal.emit(asio::cancellation_type::terminal);
      });
  }

  // A drain: terminal cancellation to each of the first `count` members
  // (the producers) still producing, except during a submit's send, which
  // must deliver its item: that one is cancelled when the send is over.
  void stop_producers(std::size_t count, const std::shared_ptr<const void>& alive) noexcept
  {
    for (std::size_t i = 0; i < count && i < count_; ++i)
      post_to(i, alive, [](member& m) {
        if (m.finished || m.input_done)
          return;
        if (m.sending)
          m.stop_after_send = true;
        else
          m.signal.emit(asio::cancellation_type::terminal);
      });
  }

  // Ends a park() of member `i` (the waiter checks its condition and starts
  // the wait in one step on its executor, so the wake is never lost).
  void wake(std::size_t i, const std::shared_ptr<const void>& alive) noexcept
  {
    post_to(i, alive, [](member& m) {
      if (m.park_timer)
        m.park_timer->cancel();
    });
  }

  // Ends the breaker waits of members `first`.. (the workers): the circuit
  // breaker closed or gave a probe back. A worker asks the breaker and
  // starts its wait in one step on its executor, so the wake is not lost.
  void wake_breaker_waiters(std::size_t first, const std::shared_ptr<const void>& alive) noexcept
  {
    for (std::size_t i = first; i < count_; ++i)
      post_to(i, alive, [](member& m) {
        if (m.breaker_timer)
          m.breaker_timer->cancel();
      });
  }

private:
  template <class F>
  void post_to(std::size_t i, const std::shared_ptr<const void>& alive, F f) noexcept
  {
    try
    {
      asio::post(members_[i].executor, [this, i, alive, f] { f(members_[i]); });
    }
    catch (...)
    {
      // Only allocation can fail here. A coroutine still sees the job's
      // cancel flag before its next task or submit.
    }
  }

  std::unique_ptr<member[]> members_;
  std::size_t count_ = 0;
  std::atomic<bool> ready_{false};
};

} // namespace jobrunner::detail

#endif
