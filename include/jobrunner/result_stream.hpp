// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_RESULT_STREAM_HPP
#define JOBRUNNER_RESULT_STREAM_HPP

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/task_result.hpp>
#include <jobrunner/threading.hpp>

#include <boost/asio/append.hpp>

#include <memory>
#include <optional>
#include <utility>

namespace jobrunner {

/// Pulls a job's results one at a time, instead of the task-complete callback.
/**
 * Returned by `JobRunner::results()`, called before the job starts. Each
 * submitted item's result is delivered exactly once, to one pull, in the
 * order the task-complete callback would have seen them (submission order
 * with `JobConfig::ordered_delivery`). The result handler waits for the
 * next pull: while nobody pulls, the result queue fills and the workers
 * wait (backpressure; the live-item bound is unchanged). Pull until the end
 * of the job, or cancel the job: a job whose results nobody pulls never
 * ends.
 *
 * *Thread safety*: one pull at a time. With `multi_threaded`, from any
 * thread; with `single_threaded`, from the thread that runs the job.
 */
template <class Item, class Result, class Threading = single_threaded>
class ResultStream
{
  using state = detail::job_state<Item, Result, Threading>;

public:
  /// What each pull yields.
  using task_result = TaskResult<Item, Result>;

  /// Made by `JobRunner::results()`; not for users to construct.
  explicit ResultStream(std::shared_ptr<state> job) noexcept : job_(std::move(job)) {}

  /// Waits for the next result, or the end of the job.
  /**
   * *Completion signature*:
   * `void(boost::system::error_code, std::optional<TaskResult<Item, Result>>)`:
   * - no error and a result: the next item's result (any status);
   * - no error and `std::nullopt`: the job has delivered every result (the
   *   job may still be finishing: `async_run` completes separately); every
   *   pull from then on completes the same way at once, posted to the
   *   token's associated executor, even after the job's executor has
   *   stopped (a plain callback has none and runs on the job's executor,
   *   which must then be run again);
   * - `asio::error::operation_aborted`: this pull was cancelled; no result
   *   was taken (the next pull gets it);
   * - `boost::system::errc::not_enough_memory`: with `input_end::when_idle`,
   *   this pull would end the input, but posting that end to the job's
   *   executor failed (out of memory, or its `execute` threw); no result was
   *   taken, and the next pull tries again.
   *
   * *Cancellation*: the token's bound cancellation slot (terminal, partial
   * or total) cancels the pull, not the job.
   *
   * *Example*:
   * ```
   * for (;;) {
   *   auto [ec, r] = co_await results.async_next(asio::as_tuple(asio::use_awaitable));
   *   if (ec || !r) break;
   *   use(*r);
   * }
   * ```
   */
  template <asio::completion_token_for<void(error_code, std::optional<task_result>)>
                CompletionToken = asio::deferred_t>
  auto async_next(CompletionToken&& token = CompletionToken())
  {
    return asio::async_initiate<CompletionToken, void(error_code, std::optional<task_result>)>(
        [](auto handler, std::shared_ptr<state> job) {
          if (const auto ec = release_previous(job))
          {
            const auto ex = asio::get_associated_executor(handler, job->executor());
            asio::post(ex, asio::append(std::move(handler), ec, std::optional<task_result>{}));
            return;
          }
          auto& channel = job->puller.get();
          // After the end, a pull does not touch the channel: Boost 1.88
          // and 1.92 (not 1.81 or 1.83) post a receive on a closed channel
          // to the channel's executor, which may have stopped (run()
          // returned), and the pull would never complete. With
          // multi_threaded the end may come, on another thread, while this
          // pull starts: a work guard, taken once the channel is seen open,
          // keeps the job's executor from running out of work until the
          // receive has started (which then completes on it); a close
          // meanwhile is seen by the second check.
          std::optional<asio::executor_work_guard<asio::any_io_executor>> work;
          if constexpr (Threading::concurrent)
            if (channel.is_open())
              work.emplace(job->executor());
          if (!channel.is_open())
          {
            const auto ex = asio::get_associated_executor(handler, job->executor());
            asio::post(
                ex, asio::append(std::move(handler), error_code{}, std::optional<task_result>{}));
            return;
          }
          channel.async_receive(asio::deferred([job](error_code ec, std::optional<task_result> r) {
            if (ec == asio::experimental::error::channel_closed)
              ec = {}; // the end of the job
            else if (ec)
              ec = asio::error::operation_aborted;
            else if (job->open.result_side_releases())
              job->puller.holding.store(true, std::memory_order_release);
            return asio::deferred.values(ec, std::move(r));
          }))(std::move(handler));
        },
        token, job_);
  }

private:
  // input_end::when_idle: the consumer is done with the previous result (it
  // may have added items meanwhile); that may end the input. If that end
  // cannot be posted, the release is undone (this pull takes nothing, the
  // next one tries again) and the pull completes with not_enough_memory.
  static error_code release_previous(const std::shared_ptr<state>& job)
  {
    if (!job->puller.holding.exchange(false, std::memory_order_acq_rel) || !job->open.release())
      return {};
    try
    {
      detail::post_end_of_input<Threading>(job);
      return {};
    }
    catch (...) // out of memory, or the executor's execute threw
    {
      job->open.unrelease();
      job->puller.holding.store(true, std::memory_order_release);
      return boost::system::errc::make_error_code(boost::system::errc::not_enough_memory);
    }
  }

  std::shared_ptr<state> job_;
};

} // namespace jobrunner

#endif
