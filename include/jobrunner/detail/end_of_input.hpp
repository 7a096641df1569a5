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
#include <exception>
#include <memory>
#include <utility>

namespace jobrunner::detail {

//   With an open input ending when idle (open_input.hpp, input_end::when_idle)
//   an item is counted until it is delivered, so the result side (the result
//   handler, or the puller) releases it, not the worker.
class open_count
{
public:
  explicit open_count(bool counting) noexcept : counting_(counting), worker_releases_(counting) {}

  // input_end::when_idle; before the start.
  void count_until_delivered() noexcept
  {
    counting_ = true;
    worker_releases_ = false;
  }
  bool counting() const noexcept { return counting_; }
  bool worker_releases() const noexcept { return worker_releases_; }
  bool result_side_releases() const noexcept { return counting_ && !worker_releases_; }
  // Counts an item added to an open input; false once input has ended.
  bool try_open() noexcept
  {
    auto n = open_.load(std::memory_order_relaxed);
    do
      if (n == 0)
        return false;
    while (!open_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
    return true;
  }
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
  // Takes back a release() that returned true when the end of input could
  // not be scheduled (post_end_of_input threw). Until then, adds with
  // when_idle are refused (try_open saw zero).
  void unrelease() noexcept { open_.fetch_add(1, std::memory_order_acq_rel); }

private:
  bool counting_;
  bool worker_releases_;
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

template <class Job>
asio::awaitable<void> end_input_owned(std::shared_ptr<Job> job)
{
  co_await send_end_markers(*job, job->config().workers);
}

// Ends the input from outside the job's coroutines: the release that brought
// open_count to zero came from an open input's add or from the puller. The
// workers end only once they have the markers, so the job waits for this.
// Throws only if the post fails (out of memory, or the executor's execute
// threw), and then nothing was scheduled: the caller still owes the end.
template <class Threading, class Job>
void post_end_of_input(const std::shared_ptr<Job>& job)
{
  // Spawned from a thread of the job's executor: with multi_threaded a
  // strand made on an outside thread trips ThreadSanitizer (Asio's reference
  // counts use fences, which it does not model).
  auto ex = job->executor();
  asio::post(ex, [job]() noexcept {
    try
    {
      auto strand = Threading::coroutine_executor(job->executor());
      asio::co_spawn(strand, end_input_owned(job), [job](std::exception_ptr e) {
        if (e)
          job->request_cancel();
      });
    }
    catch (...) // only allocation fails here
    {
      job->request_cancel();
    }
  });
}

// As above, for callers that cannot throw (Input::try_add(item, ec) is
// noexcept). If the end cannot be scheduled, the job is cancelled: no more
// adds, no more tasks. What remains: its workers still wait for the markers
// that were not sent, so the job does not end (async_run does not complete).
// Only allocation (or a throwing executor) fails here.
template <class Threading, class Job>
void end_input_detached(const std::shared_ptr<Job>& job) noexcept
{
  try
  {
    post_end_of_input<Threading>(job);
  }
  catch (...)
  {
    job->request_cancel();
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
