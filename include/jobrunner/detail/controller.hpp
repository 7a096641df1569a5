// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_CONTROLLER_HPP
#define JOBRUNNER_DETAIL_CONTROLLER_HPP

// The controller role: the coroutine behind async_run. It spawns the
// producers, the workers and the result handler, holds one share of the end
// of input, turns a cancellation of async_run into a cancellation of the job,
// waits until every coroutine it spawned has finished, then builds the
// summary and invokes the job-complete callback, exactly once (end_of_job.hpp).

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/end_of_job.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/spawn.hpp>
#include <jobrunner/detail/task_clock.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/job_summary.hpp>

#include <cstddef>
#include <memory>
#include <tuple>

namespace jobrunner::detail {

template <class Item, class Result, class Threading>
asio::awaitable<std::tuple<error_code, JobSummary>>
run_controller(std::shared_ptr<job_state<Item, Result, Threading>> job)
{
  std::tuple<error_code, JobSummary> outcome;

  // A cancellation of async_run must not make our own waits throw: it is
  // turned into a job cancellation below.
  co_await asio::this_coro::throw_if_cancelled(false);

  int idle = 0;
  if (!job->phase.compare_exchange_strong(idle, 1))
  {
    std::get<0>(outcome) = make_error_code(errc::already_started);
    co_return outcome;
  }

  (void)task_clock::instance(); // calibrated once per process, before any task runs
  const std::size_t workers = job->config().workers;
  const std::size_t producers = job->producers.size();
  job->start_time = clock::now();
  job->live.store(workers + producers + 1, std::memory_order_relaxed);
  job->workers_left.store(workers, std::memory_order_relaxed);
  const bool input_share = job->input_gate.holds_share(); // open_input(input_end::on_close)
  job->producers_left.store(producers + 1 + (input_share ? 1 : 0), std::memory_order_relaxed);

  job->delivery = plan_delivery(*job); // before any coroutine delivers
  // Members 0..producers-1 are the producers, then the workers.
  const auto ex = job->executor();
  job->members.create(producers + workers, [&ex] { return Threading::coroutine_executor(ex); });
  job->first_worker = producers;
  if (job->config().retries_off_worker())
    job->support->create_retry_queue(*job);
  // Producers first: co_spawn runs a coroutine at once up to its first
  // suspension, so the work queue fills before the workers start, each of
  // which then finds an item. Input cannot end early (the controller holds
  // a share of it), and no emit is posted before publish_members().
  spawn_producers(job, producers);
  spawn_workers_and_handler(job, producers, workers);

  job->publish_members();
  job->open_control(); // a drain asked for before the start takes effect

  co_await producer_finished(*job);
  asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  if (input_share) // the open input's share, given up once it is closed
  {
    if (cs.cancelled() != asio::cancellation_type::none)
      job->request_cancel(); // which closes the input
    auto wait_for_close = job->input_gate.closed_event.async_wait(
        [j = job.get()] { j->request_cancel(); }, asio::deferred);
    co_await std::move(wait_for_close);
    co_await producer_finished(*job);
  }

  // A cancellation of async_run, before or during the wait, cancels the job;
  // the wait goes on until the last coroutine has finished.
  if (cs.cancelled() != asio::cancellation_type::none)
    job->request_cancel();
  // Named first, and holding no shared_ptr: g++ 12 destroys temporaries
  // built inside a co_await expression twice (GCC PR 100611).
  auto wait_for_the_end =
      job->done.async_wait([j = job.get()] { j->request_cancel(); }, asio::deferred);
  co_await std::move(wait_for_the_end);
  co_await asio::this_coro::reset_cancellation_state(); // ends in a clean state
  job->close_control();                                 // no grace timer outlives the job
  if (job->internal_error)
    std::rethrow_exception(job->internal_error);

  outcome = end_of_job(*job);
  co_return outcome;
}

} // namespace jobrunner::detail

#endif
