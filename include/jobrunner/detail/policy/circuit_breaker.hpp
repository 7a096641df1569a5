// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_CIRCUIT_BREAKER_HPP
#define JOBRUNNER_DETAIL_POLICY_CIRCUIT_BREAKER_HPP

// JobConfig::circuit_breaker, pure (sans-io: the caller passes the time, no
// lock inside; job_state wraps it in a mutex). Before each attempt a worker
// asks admit(): go (with a ticket), wait until a time, or give up (the
// service is unavailable). After the attempt it reports the outcome with
// its ticket. The states:
// - closed: every attempt goes. The outcomes fill a sliding window of the
//   last `window` calls; the breaker opens when at least `min_calls` are in
//   and the share of failures reaches `failure_rate`, or after
//   `consecutive_failures` failures in a row.
// - open: nothing starts (workers wait, holding their item; no item fails
//   because of it) until `open_time` has passed; then half-open.
// - half-open: `probes` attempts go; if they all succeed the breaker closes
//   (and the waiting workers are woken), if one fails it opens again for
//   `open_time * open_time_multiplier` (up to `max_open_time`); if no
//   verdict comes within `half_open_time`, that counts as a failed probe.
// - unavailable: once the breaker has not closed for `give_up_after` since
//   it last opened, admit() says so: the job ends, the rest of the items are
//   reported as task_status::unavailable.
// A push-back or a cancelled attempt is neutral (a probe slot is given
// back). Each state change starts a new generation; an outcome with a ticket
// of an older generation (an attempt started before the change) is ignored.

#include <jobrunner/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace jobrunner::detail::policy {

enum class breaker_state
{
  closed,
  open,
  half_open,
};

enum class call_outcome
{
  success,
  failure,
  neutral, ///< a push-back or a cancellation: says nothing about the service
};

struct admission
{
  enum kind_type
  {
    go,          ///< start the attempt; report it with `ticket`
    wait,        ///< do not start before `until` (or a wake), then ask again
    unavailable, ///< the service is unavailable: end the job
  };
  kind_type kind = go;
  std::chrono::steady_clock::time_point until{};
  std::uint64_t ticket = 0;
};

class circuit_breaker
{
public:
  using clock = std::chrono::steady_clock;
  using config_type = JobConfig::CircuitBreaker;

  explicit circuit_breaker(const config_type& c)
      : config_(c), window_(std::max<std::size_t>(c.window, 1), 0), open_time_(c.open_time)
  {}

  breaker_state state() const noexcept { return state_; }
  std::uint64_t times_opened() const noexcept { return opened_; }

  admission admit(clock::time_point now)
  {
    if (state_ == breaker_state::closed)
      return {admission::go, {}, ticket(false)};
    if (config_.give_up_after.count() > 0 && now >= give_up_at())
      return {admission::unavailable, now, 0};
    if (state_ == breaker_state::open)
    {
      if (now < open_until_)
        return waiting(open_until_);
      enter(breaker_state::half_open);
      half_open_since_ = now;
      probes_out_ = 0;
      probes_ok_ = 0;
    }
    // half-open
    if (now >= half_open_since_ + config_.half_open_time)
    {
      reopen(now); // no verdict in time: a failed probe
      return waiting(open_until_);
    }
    if (probes_out_ < probes())
    {
      ++probes_out_;
      return {admission::go, {}, ticket(true)};
    }
    return waiting(half_open_since_ + config_.half_open_time);
  }

  // Reports an attempt's outcome; returns true when the breaker has just
  // closed or given a probe slot back: waiting workers should ask again.
  bool on_outcome(std::uint64_t t, call_outcome o, clock::time_point now)
  {
    if ((t >> 1) != generation_)
      return false; // started before the last change of state
    if (state_ == breaker_state::closed)
    {
      if (o != call_outcome::neutral)
        record(o == call_outcome::failure, now);
      return false;
    }
    if (state_ != breaker_state::half_open || (t & 1) == 0)
      return false;
    switch (o)
    {
    case call_outcome::failure:
      reopen(now);
      return false;
    case call_outcome::neutral:
      --probes_out_;
      return true;
    case call_outcome::success:
      if (++probes_ok_ < probes())
        return false;
      close();
      return true;
    }
    return false;
  }

private:
  std::size_t probes() const noexcept { return std::max<std::size_t>(config_.probes, 1); }
  clock::time_point give_up_at() const noexcept { return outage_since_ + config_.give_up_after; }

  std::uint64_t ticket(bool probe) const noexcept { return (generation_ << 1) | (probe ? 1 : 0); }

  admission waiting(clock::time_point until) const noexcept
  {
    if (config_.give_up_after.count() > 0)
      until = std::min(until, give_up_at());
    return {admission::wait, until, 0};
  }

  void enter(breaker_state s) noexcept
  {
    state_ = s;
    ++generation_;
  }

  void record(bool failure, clock::time_point now)
  {
    const auto size = window_.size();
    if (calls_ == size)
      failures_ -= window_[next_];
    else
      ++calls_;
    window_[next_] = failure ? 1 : 0;
    failures_ += window_[next_];
    next_ = (next_ + 1) % size;
    consecutive_ = failure ? consecutive_ + 1 : 0;
    const bool by_count =
        config_.consecutive_failures != 0 && consecutive_ >= config_.consecutive_failures;
    const bool by_rate =
        config_.failure_rate > 0 && calls_ >= std::max<std::size_t>(config_.min_calls, 1)
        && static_cast<double>(failures_) >= config_.failure_rate * static_cast<double>(calls_);
    if (by_count || by_rate)
    {
      outage_since_ = now;
      open_time_ = config_.open_time;
      open(now);
    }
  }

  void open(clock::time_point now)
  {
    enter(breaker_state::open);
    ++opened_;
    open_until_ = now + open_time_;
  }

  void reopen(clock::time_point now)
  {
    const auto grown = std::chrono::duration<double, std::nano>(open_time_)
                       * std::max(config_.open_time_multiplier, 1.0);
    const auto cap = std::chrono::duration<double, std::nano>(config_.max_open_time);
    open_time_ = std::chrono::duration_cast<std::chrono::nanoseconds>(std::min(grown, cap));
    open(now);
  }

  void close() noexcept
  {
    enter(breaker_state::closed);
    std::fill(window_.begin(), window_.end(), std::uint8_t{0});
    calls_ = failures_ = next_ = 0;
    consecutive_ = 0;
    open_time_ = config_.open_time;
  }

  config_type config_;
  breaker_state state_ = breaker_state::closed;
  std::uint64_t generation_ = 0;
  std::uint64_t opened_ = 0;
  // closed: the sliding window
  std::vector<std::uint8_t> window_;
  std::size_t calls_ = 0;
  std::size_t failures_ = 0;
  std::size_t next_ = 0;
  std::size_t consecutive_ = 0;
  // open, half-open
  std::chrono::nanoseconds open_time_;
  clock::time_point outage_since_{};
  clock::time_point open_until_{};
  clock::time_point half_open_since_{};
  std::size_t probes_out_ = 0;
  std::size_t probes_ok_ = 0;
};

} // namespace jobrunner::detail::policy

#endif
