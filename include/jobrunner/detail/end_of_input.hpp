// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_END_OF_INPUT_HPP
#define JOBRUNNER_DETAIL_END_OF_INPUT_HPP

// How input ends: one end marker per worker, in band, behind every item in
// the work queue (Asio 1.81's channel close() would drop the items still
// buffered). Who sends them:
// - the last producer to finish (the controller holds one producer share
//   too, so that a job with no producer still ends);
// - with retries off the workers (JobConfig::retries_off_worker), an item
//   can come back into the queue, so input ends only when the producers
//   have finished *and* every item has its final result: `open_count`
//   counts the producers' share (1) plus the items without a final result,
//   and whoever brings it to zero sends the markers (a worker that does
//   sends W - 1 and leaves). An item is counted before it enters the work
//   queue (another thread may finish it before the send returns), and
//   uncounted if the send fails.

#include <jobrunner/detail/asio.hpp>

#include <atomic>
#include <cstddef>

namespace jobrunner::detail {

class open_count
{
public:
  explicit open_count(bool counting) noexcept : counting_(counting) {}

  bool counting() const noexcept { return counting_; }
  void open() noexcept
  {
    if (counting_)
      open_.fetch_add(1, std::memory_order_relaxed);
  }
  void unopen() noexcept
  {
    if (counting_)
      open_.fetch_sub(1, std::memory_order_relaxed);
  }
  // True for the caller that brought the count to zero: it ends the input.
  bool release() noexcept { return open_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

private:
  const bool counting_;
  std::atomic<std::size_t> open_{1};
};

// Sends `count` end-of-input markers into `job`'s work queue. Retries a send
// that cancellation interrupted: every worker must get its marker or it
// would never exit. (Once per job: no try_send first, whose empty payload
// trips g++ 12's -Wmaybe-uninitialized inside Asio.)
template <class Job>
asio::awaitable<void> send_end_markers(Job& job, std::size_t count)
{
  using message = typename Job::work_message_type;
  for (std::size_t sent = 0; sent < count;)
  {
    // After a cancellation every co_await would throw operation_aborted
    // until the state is reset; ours must go on.
    if (job.cancel_requested())
      co_await asio::this_coro::reset_cancellation_state();
    error_code eof = asio::error::eof;
    message marker;
    auto [ec] =
        co_await job.work().async_send(eof, std::move(marker), asio::as_tuple(asio::deferred));
    if (!ec)
      ++sent;
    else
      job.request_cancel(); // the channel is never closed: only a cancellation gets here
  }
}

// One producer's share of the end of input.
template <class Job>
asio::awaitable<void> producer_finished(Job& job)
{
  if (job.producers_left.fetch_sub(1, std::memory_order_acq_rel) != 1)
    co_return;
  if (!job.open.counting() || job.open.release())
    co_await send_end_markers(job, job.config().workers);
}

} // namespace jobrunner::detail

#endif
