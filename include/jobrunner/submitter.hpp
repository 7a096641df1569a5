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
  /// Made by the runner for each producer; not for users to construct.
  explicit Submitter(detail::job_core<Item, Threading>& job) noexcept : job_(&job) {}

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
   * *Example*: `co_await out.submit(std::move(item));`
   */
  asio::awaitable<void> submit(Item item)
  {
    if (job_->cancel_requested())
      throw_aborted();
    // try_send builds the message only when it succeeds, so on failure the
    // item is still ours.
    job_->open.open();
    if (job_->work().try_send(error_code{}, std::move(item)))
    {
      job_->input.on_submitted();
      co_return;
    }
    detail::work_message<Item> message(std::move(item));
    // Named locals only inside co_await: g++ 12 double-destroys temporaries
    // of class type built there (GCC PR 100611).
    job_->input.on_send_started();
    auto [ec] = co_await job_->work().async_send(error_code{}, std::move(message),
                                                 asio::as_tuple(asio::deferred));
    job_->input.on_send_finished(!ec);
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
    if (job_->cancel_requested())
      return false;
    // try_send constructs the message only when it succeeds.
    job_->open.open();
    if (!job_->work().try_send(error_code{}, std::move(item)))
    {
      job_->open.unopen();
      return false;
    }
    job_->input.on_submitted();
    return true;
  }

  /// True once the job has been cancelled: further submits will throw.
  bool cancelled() const noexcept { return job_->cancel_requested(); }

private:
  [[noreturn]] static void throw_aborted()
  {
    throw boost::system::system_error(asio::error::operation_aborted, "jobrunner: job cancelled");
  }

  detail::job_core<Item, Threading>* job_;
};

} // namespace jobrunner

#endif
