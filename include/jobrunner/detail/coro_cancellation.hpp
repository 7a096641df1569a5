// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_CORO_CANCELLATION_HPP
#define JOBRUNNER_DETAIL_CORO_CANCELLATION_HPP

// How a worker's own waits stay out of the job's cancellation. An
// interrupted channel receive would trip asio#1241 (the channel then stops
// buffering) and an interrupted send would destroy a result, so before such
// a wait the worker shields itself (which also clears a cancellation its
// last task received), and lifts the shield before its next task, which
// must see terminal cancellation again. (Asio 1.81 cannot bind an empty
// slot to `deferred`, and use_awaitable costs a coroutine frame per wait.)
// Beware: co_await of another coroutine (an awaitable) throws
// operation_aborted at once while the state holds a cancellation, so the
// worker shields itself *before* calling a helper coroutine that would.

#include <jobrunner/detail/asio.hpp>

namespace jobrunner::detail {

class shield_guard
{
public:
  bool shielded() const noexcept { return shielded_; }

  // co_await before a wait that cancellation must not interrupt (only when
  // not shielded()).
  auto shield() noexcept
  {
    shielded_ = true;
    return asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
  }

  // co_await before a task or a wait that cancellation must end (only when
  // shielded()).
  auto lift() noexcept
  {
    shielded_ = false;
    return asio::this_coro::reset_cancellation_state();
  }

private:
  bool shielded_ = false;
};

// co_spawn's entry point (Asio 1.81) may co_await a post after our body
// returns; with a cancelled state that co_await would throw out of
// io_context::run(). Every cancellable coroutine co_awaits this last.
inline asio::this_coro::throw_if_cancelled_1_t leave_cancelled_state_quietly() noexcept
{
  return asio::this_coro::throw_if_cancelled(false);
}

} // namespace jobrunner::detail

#endif
