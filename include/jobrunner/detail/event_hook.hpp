// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_EVENT_HOOK_HPP
#define JOBRUNNER_DETAIL_EVENT_HOOK_HPP

// JobRunner::on_event (issue 13 item 6): the hook and how the runner calls
// it. notify() is called where the runner decides, never on the per-item
// fast path; it costs one test of an empty std::function when no hook is
// set. A hook that throws is counted (JobSummary::event_errors).

#include <jobrunner/event.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace jobrunner::detail {

class event_hook
{
public:
  using clock = std::chrono::steady_clock;

  std::function<void(const event&)> on_event; // set once, before the job starts
  std::atomic<std::uint64_t> event_errors{0};

  void notify(event_kind kind, std::uint64_t sequence, std::int64_t value,
              clock::time_point time = clock::now()) noexcept
  {
    if (!on_event)
      return;
    try
    {
      event e;
      e.kind = kind;
      e.time = time;
      e.sequence = sequence;
      e.value = value;
      on_event(e);
    }
    catch (...)
    {
      event_errors.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // notify() for the policies that report without an item.
  auto reporter() noexcept
  {
    return [this](event_kind kind, std::int64_t value, clock::time_point time) {
      notify(kind, 0, value, time);
    };
  }
};

} // namespace jobrunner::detail

#endif
