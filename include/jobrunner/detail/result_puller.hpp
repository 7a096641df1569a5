// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_RESULT_PULLER_HPP
#define JOBRUNNER_DETAIL_RESULT_PULLER_HPP

// Pulled results (JobRunner::results(), jobrunner/result_stream.hpp): the
// result handler hands each result to the consumer through a rendezvous
// channel (capacity 0) instead of calling the task-complete callback, so it
// waits for the consumer, the result queue fills, and the workers wait
// (the same backpressure as a slow callback). The handler is never
// cancelled; a cancelled pull leaves the handler's send pending, so the next
// pull gets that result: nothing is lost. After the last result the handler
// closes the channel (no send is pending then): every pull from then on
// completes at once with the end of the job.
// Engaged only when results() was called: a job that does not pull pays
// nothing.

#include <jobrunner/detail/asio.hpp>

#include <atomic>
#include <optional>

namespace jobrunner::detail {

template <class TaskResult, class Threading>
class result_puller
{
public:
  using message = std::optional<TaskResult>;
  using channel = typename Threading::template channel<void(error_code, message)>;

  // Before the start (JobRunner::results).
  void enable(const asio::any_io_executor& ex)
  {
    if (!channel_)
      channel_.emplace(ex, 0);
  }
  bool enabled() const noexcept { return channel_.has_value(); }
  channel& get() noexcept { return *channel_; }

  // input_end::when_idle: the consumer holds a delivered result, released
  // (open_count) when it asks for the next one.
  std::atomic<bool> holding{false};

private:
  std::optional<channel> channel_;
};

} // namespace jobrunner::detail

#endif
