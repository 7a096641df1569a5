// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_INPUT_HPP
#define JOBRUNNER_INPUT_HPP

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/open_input.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/threading.hpp>

#include <boost/asio/compose.hpp>

#include <memory>
#include <utility>

namespace jobrunner {

/// The open input of a running job: adds items from anywhere, while it runs.
/**
 * Returned by `JobRunner::open_input(rule)`. A copyable handle; the job's
 * state lives as long as any handle does.
 *
 * *When input ends* (`input_end`, chosen at `open_input`):
 * - `on_close` (default): after `close()` has been called and every add
 *   begun before it has finished (and the producers are done);
 * - `when_idle`: once the producers are done and every item has been
 *   delivered (its task-complete callback returned, or the puller asked for
 *   the next result) and nothing more was added: a crawler's rule, whose
 *   results discover new items. Add the seeds before `async_run` (or with a
 *   producer): a job with nothing to do ends at once.
 *
 * *Errors*: an add after `close()`, or after the input ended, fails with
 * `errc::input_closed`; an add to a cancelled job fails with
 * `asio::error::operation_aborted`. A failed add has not added the item
 * and the item gets no result; an accepted item gets exactly one.
 *
 * *Thread safety*: with `multi_threaded`, every member may be called from
 * any thread, concurrently. With `single_threaded`, `async_add` may be
 * called from any thread (it runs on the job's executor), the others only
 * from the thread that runs the job.
 *
 * *Live items*: each pending `async_add` holds its item; count the adds
 * pending at once in `JobConfig::live_item_bound`.
 */
template <class Item, class Threading = single_threaded>
class Input
{
  using core = detail::job_core<Item, Threading>;

public:
  /// Made by `JobRunner::open_input()`; not for users to construct.
  explicit Input(std::shared_ptr<core> job) noexcept : job_(std::move(job)) {}

  /// Adds `item` only if that needs no waiting.
  /**
   * Returns true if the item was accepted. Returns false, leaving `item`
   * untouched, if the work queue is full (then use `async_add`).
   * *Errors*: throws `boost::system::system_error` with
   * `errc::input_closed` or `asio::error::operation_aborted` (see the class).
   */
  bool try_add(Item& item)
  {
    error_code ec;
    const bool added = try_add(item, ec);
    if (ec)
      throw boost::system::system_error(ec, "jobrunner: Input::try_add");
    return added;
  }

  /// As above, reporting errors in `ec` instead of throwing.
  bool try_add(Item& item, error_code& ec) noexcept
  {
    ec = begin(*job_);
    if (ec)
      return false;
    // try_send builds the message only when it succeeds: on failure the
    // item is still the caller's.
    const bool added = job_->work().try_send(error_code{}, job_->submission(item));
    if (added)
      job_->input.on_submitted();
    else
      unopen(job_);
    job_->input_gate.end_add();
    return added;
  }

  /// Adds `item`, waiting while the work queue is full (backpressure).
  /**
   * *Completion signature*: `void(boost::system::error_code)`; no error:
   * the item is in the work queue and will get exactly one result.
   * *Errors*: `errc::input_closed`, `asio::error::operation_aborted` (the
   * job was cancelled, or this operation was); the item was then not added.
   * *Cancellation*: terminal cancellation through the token's slot while the
   * add waits; the item is then dropped, not added (like `Submitter::submit`).
   * *Beware*: do not *wait* for an add from inside the job (its callback, a
   * task, the puller's loop) while the queues may be full: the job cannot
   * make room while you wait. From there, use `try_add`, or start
   * `async_add` with a callback that does not wait (the item waits in the
   * pending operation).
   * *Example*: `co_await input.async_add(std::move(url), asio::use_awaitable);`
   */
  template <asio::completion_token_for<void(error_code)> CompletionToken = asio::deferred_t>
  auto async_add(Item item, CompletionToken&& token = CompletionToken())
  {
    const auto ex = job_->executor();
    return asio::async_compose<CompletionToken, void(error_code)>(
        add_op{job_, detail::work_message<Item>(job_->submission(item)), 0, error_code{}}, token,
        ex);
  }

  /// Closes the input: later adds fail with `errc::input_closed`. Idempotent, any thread.
  void close() noexcept { job_->input_gate.close(); }

  /// True once the input refuses adds (closed, or the job cancelled).
  bool closed() const noexcept { return job_->input_gate.closed(); }

private:
  // Admits one add: the gate (open, not closed) and the count of open items.
  static error_code begin(core& job) noexcept
  {
    if (job.cancel_requested())
      return asio::error::operation_aborted;
    if (!job.input_gate.begin_add())
      return job.cancel_requested() ? error_code(asio::error::operation_aborted)
                                    : make_error_code(errc::input_closed);
    if (job.input_gate.rule() == input_end::when_idle)
    {
      if (!job.open.try_open())
      {
        job.input_gate.end_add();
        return make_error_code(errc::input_closed);
      }
    }
    else
      job.open.open();
    return {};
  }

  // An add that did not happen: uncount it; with when_idle it may be the last.
  static void unopen(const std::shared_ptr<core>& job)
  {
    if (job->input_gate.rule() != input_end::when_idle)
      job->open.unopen();
    else if (job->open.release())
      detail::end_input_detached<Threading>(job);
  }

  /// @cond JOBRUNNER_INTERNAL
  struct add_op
  {
    std::shared_ptr<core> job;
    detail::work_message<Item> message;
    int step = 0;
    error_code result;

    template <class Self>
    void operator()(Self& self, error_code ec = {})
    {
      switch (step)
      {
      case 0:
        step = 1;
        if constexpr (!Threading::concurrent) // the channel is the job thread's
        {
          auto ex = job->executor();
          asio::dispatch(ex, std::move(self));
          return;
        }
        [[fallthrough]];
      case 1:
        step = 2;
        result = begin(*job);
        if (!result)
        {
          if (!job->work().try_send(error_code{}, std::move(message)))
          {
            step = 3;
            job->input.on_send_started();
            job->work().async_send(error_code{}, std::move(message), std::move(self));
            return;
          }
          job->input.on_submitted();
          job->input_gate.end_add();
        }
        asio::post(std::move(self)); // never complete inside the initiating call
        return;
      case 2:
        self.complete(result);
        return;
      default: // 3: the waiting send finished
        job->input.on_send_finished(!ec);
        if (ec)
          unopen(job);
        job->input_gate.end_add();
        self.complete(ec ? error_code(asio::error::operation_aborted) : error_code{});
      }
    }
  };
  /// @endcond

  std::shared_ptr<core> job_;
};

} // namespace jobrunner

#endif
