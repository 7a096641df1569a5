// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_END_OF_INPUT_HPP
#define JOBRUNNER_DETAIL_END_OF_INPUT_HPP

// How input ends: one end marker per worker, in band, behind every item in
// the work queue (Asio 1.81's channel close() would drop the items still
// buffered). The last producer sends them, or, with retries off the
// workers, whoever delivers the last final result (see job_core::open_).

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/job_state.hpp>

#include <cstddef>

namespace jobrunner::detail {

// Sends `count` end-of-input markers. Retries a send that cancellation
// interrupted: every worker must get its marker or it would never exit.
template <class Item, class Threading>
asio::awaitable<void> send_end_markers(job_core<Item, Threading>& job, std::size_t count)
{
  for (std::size_t sent = 0; sent < count;)
  {
    if (job.work().try_send(error_code(asio::error::eof), work_message<Item>{}))
    {
      ++sent;
      continue;
    }
    // After a cancellation every co_await would throw operation_aborted
    // until the state is reset; ours must go on.
    if (job.cancel_requested())
      co_await asio::this_coro::reset_cancellation_state();
    error_code eof = asio::error::eof;
    work_message<Item> marker;
    auto [ec] =
        co_await job.work().async_send(eof, std::move(marker), asio::as_tuple(asio::deferred));
    if (!ec)
      ++sent;
    else
      job.request_cancel(); // the channel is never closed: only a cancellation gets here
  }
}

} // namespace jobrunner::detail

#endif
