// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_OPEN_INPUT_HPP
#define JOBRUNNER_DETAIL_OPEN_INPUT_HPP

// The state behind JobRunner::open_input() (jobrunner/input.hpp): whether the
// input is open, how it ends, and the adds in progress. A job that never
// opens its input pays nothing for it per item (no producer or worker reads
// this state).
//
// How an open input ends (see end_of_input.hpp for the end markers):
// - input_end::on_close: the input holds one producer share of the input
//   (`producers_left`), given up when it is closed and every add begun before
//   the close has finished; the controller waits for that (`closed_event`).
// - input_end::when_idle: input ends when the producers are done and every
//   item has been delivered (its task-complete callback returned, or the
//   puller asked for the next result): `open_count` counts the items until
//   they are delivered, and an add is refused once it has reached zero.
//
// The gate: `state_` is 4 x (adds in progress) + closed bit (1) + released
// bit (2). An add brackets its send with begin_add()/end_add(); whoever
// brings the state to "closed, none in progress" first (a CAS from 1 to 3)
// releases the share, exactly once, after every add begun before the close.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/done_event.hpp>

#include <atomic>
#include <cstdint>
#include <functional>

namespace jobrunner {

/// When the input of `JobRunner::open_input()` ends.
enum class input_end
{
  on_close,  ///< when `Input::close()` has been called (and the producers are done)
  when_idle, ///< when every item added has been delivered and the producers are done
};

namespace detail {

class open_input_state
{
public:
  // Before the start, once (JobRunner::open_input).
  void enable(input_end rule) noexcept
  {
    enabled_ = true;
    rule_ = rule;
  }
  bool enabled() const noexcept { return enabled_; }
  bool holds_share() const noexcept { return enabled_ && rule_ == input_end::on_close; }
  input_end rule() const noexcept { return rule_; }

  // False if the input is closed: the add must not happen (and the caller
  // must not call end_add).
  bool begin_add() noexcept
  {
    if ((state_.fetch_add(step, std::memory_order_acq_rel) & closed_bit) == 0)
      return true;
    end_add();
    return false;
  }
  void end_add() noexcept
  {
    if (state_.fetch_sub(step, std::memory_order_acq_rel) == (closed_bit | step))
      try_release();
  }
  // Idempotent, any thread; nothing for a job whose input is not open.
  void close() noexcept
  {
    if (!enabled_)
      return;
    state_.fetch_add(step, std::memory_order_acq_rel); // the close is an "add" of its own
    state_.fetch_or(closed_bit, std::memory_order_acq_rel);
    end_add();
  }
  bool closed() const noexcept
  {
    return (state_.load(std::memory_order_acquire) & closed_bit) != 0;
  }

  // on_close: set once the input's share may be given up.
  done_event closed_event;

  // The release may happen on any thread; the event is set on `ex` (where a
  // strand's reference counts are touched: ThreadSanitizer does not model
  // the fences of Asio's), with the job kept alive by `alive()`.
  template <class Alive>
  void set_on(asio::any_io_executor ex, Alive alive)
  {
    on_released_ = [this, ex, alive] {
      asio::post(ex, [this, keep = alive()] { closed_event.set(); });
    };
  }

  // add_range / add_producer called while the job runs (e.g. from a
  // callback): the job completes with errc::input_added_after_start.
  std::atomic<bool> late_add{false};

private:
  static constexpr std::uint64_t closed_bit = 1;
  static constexpr std::uint64_t released_bit = 2;
  static constexpr std::uint64_t step = 4;

  void try_release() noexcept
  {
    auto expected = closed_bit;
    if (state_.compare_exchange_strong(expected, closed_bit | released_bit,
                                       std::memory_order_acq_rel))
      on_released_();
  }

  std::function<void()> on_released_;
  bool enabled_ = false;
  input_end rule_ = input_end::on_close;
  std::atomic<std::uint64_t> state_{0};
};

} // namespace detail
} // namespace jobrunner

#endif
