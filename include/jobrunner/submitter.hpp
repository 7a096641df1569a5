// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_SUBMITTER_HPP
#define JOBRUNNER_SUBMITTER_HPP

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/threading.hpp>

#include <optional>
#include <utility>

namespace jobrunner {

/// The handle a producer coroutine submits work items through.
/**
 * A producer receives a `Submitter&` that lives as long as the producer
 * runs. Each accepted item gets exactly one task-complete callback.
 *
 * Thread safety: use it only from the producer coroutine it was given to.
 */
template <class Item, class Threading = single_threaded>
class Submitter
{
public:
  /// Made by the runner for each producer; not for users to construct. `self`: the producer's
  /// member, which a drain must not cancel while a submit delivers its item.
  explicit Submitter(detail::job_core<Item, Threading>& job,
                     detail::member* self = nullptr) noexcept
      : job_(&job), self_(self)
  {}

  /// Submits `item`, suspending while the work queue is full (backpressure).
  /**
   * *Completion*: resumes once the item is in the work queue (or handed to a
   * waiting worker). Takes the fast path without suspending when there is
   * room.
   *
   * *Cancellation*: when the job is cancelled, or the producer's pending
   * submit is cancelled, throws `boost::system::system_error` with
   * `asio::error::operation_aborted`; that item was **not** submitted and
   * gets no callback. The producer should then return (the runner does not
   * count this exception as a producer error).
   *
   * *Drain* (`JobRunner::drain`): a submit called after the drain throws
   * as above; a submit already waiting for room when it comes still
   * delivers its item (which then runs), and the producer's next
   * asynchronous operation ends with `operation_aborted`.
   *
   * *Example*: `co_await out.submit(std::move(item));`
   */
  asio::awaitable<void> submit(Item item)
  {
    if (job_->input_closed())
      throw_aborted();
    // try_send builds the message only when it succeeds, so on failure the
    // item is still ours.
    job_->open.open();
    const auto submission = job_->submission(item);
    if (job_->work().try_send(error_code{}, submission))
    {
      job_->input.on_submitted();
      co_return;
    }
    detail::work_message<Item> message(submission);
    // Named locals only inside co_await: g++ 12 double-destroys temporaries
    // of class type built there (GCC PR 100611).
    job_->input.on_send_started();
    if (self_)
      self_->sending = true;
    auto [ec] = co_await job_->work().async_send(error_code{}, std::move(message),
                                                 asio::as_tuple(asio::deferred));
    job_->input.on_send_finished(!ec);
    if (self_)
    {
      self_->sending = false;
      if (std::exchange(self_->stop_after_send, false) && !ec)
        self_->signal.emit(asio::cancellation_type::terminal); // the drain, now the item is in
    }
    if (ec)
    {
      job_->open.unopen();
      job_->request_cancel();
      throw_aborted();
    }
  }

  /// Submits `item` only if that needs no waiting.
  /**
   * Returns true if the item was accepted. Returns false, and leaves `item`
   * untouched, when the queue is full or the job is cancelled; then
   * `co_await submit(std::move(item))` waits (or reports the cancellation).
   */
  bool try_submit(Item& item)
  {
    if (job_->input_closed())
      return false;
    // try_send constructs the message only when it succeeds.
    job_->open.open();
    if (!job_->work().try_send(error_code{}, job_->submission(item)))
    {
      job_->open.unopen();
      return false;
    }
    job_->input.on_submitted();
    return true;
  }

  /// True once the job has been cancelled or is draining: further submits will throw.
  bool cancelled() const noexcept { return job_->input_closed(); }

  /// True once the circuit breaker ended the job (`JobConfig::circuit_breaker.give_up_after`):
  /// the service is unavailable; a producer may report the items it did not submit as such.
  bool service_unavailable() const noexcept
  {
    return job_->gave_up.load(std::memory_order_acquire);
  }

private:
  [[noreturn]] static void throw_aborted()
  {
    throw boost::system::system_error(asio::error::operation_aborted, "jobrunner: job cancelled");
  }

  detail::job_core<Item, Threading>* job_;
  detail::member* self_ = nullptr;
};

} // namespace jobrunner

#endif
