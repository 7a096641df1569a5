// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_EVENT_HPP
#define JOBRUNNER_EVENT_HPP

// What the runner decides, reported to JobRunner::on_event (issue 13 item 6).

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string_view>

namespace jobrunner {

/// The kinds of `event`; `event::value` means something different for each.
enum class event_kind
{
  retry_scheduled,     ///< an attempt will be retried; value: the backoff, in ns
  pause_started,       ///< a push-back (`retry_after`) paused dispatch; value: its length, in ns
  pause_ended,         ///< the pause is over (reported by the next start); value: 0
  limit_changed,       ///< the adaptive concurrency limit moved; value: the new limit
  draining,            ///< `drain()` took effect; value: the grace period in ns, or -1 for none
  drain_grace_expired, ///< the drain's grace period ran out: the job is cancelled; value: 0
  fail_fast,           ///< an item failed with `JobConfig::fail_fast`: the job stops; value: 0
  aborted,             ///< the failure budget was exceeded: the job stops; value: failures so far
  // --- circuit breaker (issue 14) ---
  breaker_opened,    ///< the circuit breaker opened: starts wait; value: times it has opened
  breaker_half_open, ///< the breaker lets its probes through; value: 0
  breaker_closed,    ///< a probe succeeded: the breaker closed, starts resume; value: 0
};

/// One decision of the runner, as `JobRunner::on_event` receives it.
struct event
{
  event_kind kind = event_kind::retry_scheduled; ///< what the runner decided
  std::chrono::steady_clock::time_point
      time; ///< when it was decided (pause_ended: the pause's end)
  std::uint64_t sequence =
      0; ///< the item's `TaskResult::sequence` (retry_scheduled, fail_fast); else 0
  std::int64_t value = 0; ///< see `event_kind`
};

/// The enumerator's name, e.g. "retry_scheduled"; "unknown" for a value out of range.
constexpr std::string_view to_string(event_kind k) noexcept
{
  switch (k)
  {
  case event_kind::retry_scheduled:
    return "retry_scheduled";
  case event_kind::pause_started:
    return "pause_started";
  case event_kind::pause_ended:
    return "pause_ended";
  case event_kind::limit_changed:
    return "limit_changed";
  case event_kind::draining:
    return "draining";
  case event_kind::drain_grace_expired:
    return "drain_grace_expired";
  case event_kind::fail_fast:
    return "fail_fast";
  case event_kind::aborted:
    return "aborted";
  case event_kind::breaker_opened:
    return "breaker_opened";
  case event_kind::breaker_half_open:
    return "breaker_half_open";
  case event_kind::breaker_closed:
    return "breaker_closed";
  }
  return "unknown";
}

/// Writes `to_string(k)` (include `<ostream>` to use it).
template <class Traits>
std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& os, event_kind k)
{
  return os << to_string(k).data(); // the names are literals: null-terminated
}

} // namespace jobrunner

#endif
