// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_DRAIN_CONTROL_HPP
#define JOBRUNNER_DETAIL_DRAIN_CONTROL_HPP

// A drain's side effects over time (JobRunner::drain, issue 13 item 5): the
// `draining` event, once, and the grace timer that ends in a cancel. Both
// live on one executor (the job's, or a strand of it), from the
// controller's start (open) to its end (close); a drain asked for before
// the start takes effect at the start. The decisions are policy/drain.hpp's.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/event.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

namespace jobrunner::detail {

class drain_control
{
public:
  explicit drain_control(asio::any_io_executor ex) : ex_(std::move(ex)) {}

  // Job: drain_requested(), drain_deadline(), notify(), cancel_requested(),
  // request_cancel(), alive(); it owns this object.
  template <class Job>
  void open(Job& job) noexcept
  {
    open_.store(true, std::memory_order_seq_cst);
    if (job.drain_requested())
      post_step(job);
  }

  // A drain started or its grace deadline moved (any thread).
  template <class Job>
  void changed(Job& job) noexcept
  {
    if (open_.load(std::memory_order_seq_cst))
      post_step(job);
  }

  // The job has ended (the controller, before the summary): a drain asked
  // for by now took effect, and is announced here if its own notice has not
  // reached ex_ yet (its thread may be preempted between setting the flag
  // and posting); a later one has no effect. No grace timer outlives the
  // job. Returns whether the job was drained.
  template <class Job>
  bool close(Job& job) noexcept
  {
    const bool drained = job.drain_requested();
    if (drained)
      announce(job);
    try
    {
      asio::post(ex_, [this, alive = job.alive()] {
        closed_ = true;
        if (grace_timer_)
          grace_timer_->cancel();
      });
    }
    catch (...)
    {
      // Only allocation can fail: the timer then ends at its deadline.
    }
    return drained;
  }

private:
  template <class Job>
  void post_step(Job& job) noexcept
  {
    try
    {
      asio::post(ex_, [this, &job, alive = job.alive()] { step(job); });
    }
    catch (...)
    {
      // Only allocation can fail: the drain still stops the input.
    }
  }

  // On ex_: announce the drain once, (re)arm the grace timer.
  template <class Job>
  void step(Job& job)
  {
    if (closed_)
      return;
    announce(job);
    const auto deadline = job.drain_deadline();
    if (!deadline)
      return;
    if (!grace_timer_)
      grace_timer_.emplace(ex_);
    grace_timer_->expires_at(*deadline);
    grace_timer_->async_wait([this, &job, alive = job.alive()](error_code ec) {
      if (ec || closed_ || job.cancel_requested())
        return;
      job.notify(event_kind::drain_grace_expired, 0, 0);
      job.request_cancel();
    });
  }

  // The draining event, once: from ex_, or from the controller's close.
  template <class Job>
  void announce(Job& job) noexcept
  {
    if (announced_.exchange(true, std::memory_order_acq_rel))
      return;
    const auto deadline = job.drain_deadline();
    job.notify(event_kind::draining, 0,
               deadline ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                              *deadline - std::chrono::steady_clock::now())
                              .count()
                        : -1);
  }

  asio::any_io_executor ex_;
  std::atomic<bool> open_{false};
  bool closed_ = false; // on ex_
  std::atomic<bool> announced_{false};
  std::optional<asio::steady_timer> grace_timer_;
};

} // namespace jobrunner::detail

#endif
