// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_CORO_CANCELLATION_HPP
#define JOBRUNNER_DETAIL_CORO_CANCELLATION_HPP

// How a worker's own waits stay out of the job's cancellation. An
// interrupted channel receive would trip asio#1241 (the channel then stops
// buffering) and an interrupted send would destroy a result, so before such
// a wait the worker shields itself, and lifts the shield before its next
// task, which must see terminal cancellation again. Both are a store into a
// flag its cancellation filter reads; a reset (which also clears a
// cancellation the last task received) only when needed. (Asio 1.81 cannot
// bind an empty slot to `deferred`, and use_awaitable costs a coroutine
// frame per wait.)
// Beware: co_await of another coroutine (an awaitable) throws
// operation_aborted at once while the state holds a cancellation, so the
// worker shields itself *before* calling a helper coroutine that would.

#include <jobrunner/detail/asio.hpp>

namespace jobrunner::detail {

// A worker's shield, kept in its member (which outlives the coroutine): the
// filter below reads it when a cancellation is emitted, which happens on the
// member's executor, where the worker changes it too.
struct shield_state
{
  bool up = false;      // emissions are dropped
  bool passed = false;  // a cancellation reached the state since its reset
  unsigned filters = 0; // live copies of the filter: 0 once a reset replaced it
};

// The filter a worker installs once: terminal cancellation passes unless the
// shield is up. Raising and lowering the shield is then a store, where a
// reset of the cancellation state (which builds a new one) used to be needed
// before and after every wait of the hot path.
class shield_filter
{
public:
  explicit shield_filter(shield_state& s) noexcept : s_(&s) { ++s_->filters; }
  shield_filter(const shield_filter& o) noexcept : s_(o.s_) { ++s_->filters; }
  shield_filter& operator=(const shield_filter&) = delete;
  ~shield_filter() { --s_->filters; }

  asio::cancellation_type_t operator()(asio::cancellation_type_t t) const noexcept
  {
    if (s_->up)
      return asio::cancellation_type::none;
    const auto passing = t & asio::cancellation_type::terminal;
    if (passing != asio::cancellation_type::none)
      s_->passed = true;
    return passing;
  }

private:
  shield_state* s_;
};

class shield_guard
{
public:
  explicit shield_guard(shield_state& s) noexcept : s_(&s) {}

  bool shielded() const noexcept { return s_->up; }

  // Raises the shield with a store (the hot path) when our filter is in
  // place and no cancellation reached the state; false: co_await shield().
  bool try_shield() noexcept
  {
    if (s_->filters == 0 || s_->passed)
      return false;
    s_->up = true;
    return true;
  }

  // co_await before a wait that cancellation must not interrupt, or before
  // co_await of a coroutine: also clears a cancellation the state received.
  asio::this_coro::reset_cancellation_state_1_t<shield_filter> shield() noexcept
  {
    s_->up = true;
    return reset();
  }

  // Before a task or a wait that cancellation must end (after a shield, so
  // the state holds no cancellation).
  void lift() noexcept { s_->up = false; }

  // co_await: a clean state with our filter (after a cancelled attempt, or
  // when a task replaced the state with one of its own).
  asio::this_coro::reset_cancellation_state_1_t<shield_filter> reset() noexcept
  {
    s_->passed = false;
    return asio::this_coro::reset_cancellation_state(shield_filter(*s_));
  }

private:
  shield_state* s_;
};

// A shielded wait: `initiate(handler)` starts the operation with a handler
// bound to no cancellation slot, so it registers no cancellation handler (an
// allocation and a hand-over per wait) that the shield would filter out.
// (Asio 1.81's bind_cancellation_slot does not compose with deferred as a
// token, so the binding is on the handler.)
template <class Signature, class Initiate, class CompletionToken>
auto unstoppable(Initiate initiate, CompletionToken&& token)
{
  return asio::async_initiate<CompletionToken, Signature>(
      [initiate = std::move(initiate)](auto handler) mutable {
        initiate(asio::bind_cancellation_slot(asio::cancellation_slot(), std::move(handler)));
      },
      token);
}

// co_spawn's entry point (Asio 1.81) may co_await a post after our body
// returns; with a cancelled state that co_await would throw out of
// io_context::run(). Every cancellable coroutine co_awaits this last.
inline asio::this_coro::throw_if_cancelled_1_t leave_cancelled_state_quietly() noexcept
{
  return asio::this_coro::throw_if_cancelled(false);
}

} // namespace jobrunner::detail

#endif
