// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_SPAWN_HPP
#define JOBRUNNER_DETAIL_SPAWN_HPP

// How the controller (controller.hpp) starts the job's coroutines: the
// producers, the workers (the lean worker, or the policy worker through
// job->support: policy_support.hpp) and the result handler, each with the
// completion handler that counts it out of the job.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/producer.hpp>
#include <jobrunner/detail/result_handler.hpp>
#include <jobrunner/detail/worker.hpp>

#include <cstddef>
#include <exception>
#include <limits>
#include <memory>

namespace jobrunner::detail {

inline constexpr std::size_t no_member = std::numeric_limits<std::size_t>::max();

// Completion handler of every coroutine the controller spawns.
template <class State>
struct on_coroutine_exit
{
  std::shared_ptr<State> job;
  std::size_t member_index;

  void operator()(std::exception_ptr e) const
  {
    if (member_index != no_member)
      job->members[member_index].finished = true;
    if (e && !job->internal_error_set.exchange(true))
      job->internal_error = e;
    if (job->live.fetch_sub(1, std::memory_order_acq_rel) == 1)
      job->done.set();
  }
};

// Spawns the workers and the result handler; the policy worker and the
// ordered result handler through job->support (policy_support.hpp).
template <class State>
void spawn_workers_and_handler(const std::shared_ptr<State>& job, std::size_t producers,
                               std::size_t workers)
{
  const bool policies = job->uses_policies();
  for (std::size_t w = 0; w < workers; ++w)
  {
    auto& m = job->members[producers + w];
    auto done =
        asio::bind_cancellation_slot(m.signal.slot(), on_coroutine_exit<State>{job, producers + w});
    if (policies)
      asio::co_spawn(m.executor, job->support->worker(job, producers + w), std::move(done));
    else
      asio::co_spawn(m.executor, run_worker<false>(job, producers + w), std::move(done));
  }
  const auto ex = State::threading::coroutine_executor(job->executor());
  if (job->config().ordered_delivery)
    asio::co_spawn(ex, job->support->ordered_result_handler(job),
                   on_coroutine_exit<State>{job, no_member});
  else
    asio::co_spawn(ex, run_result_handler<false>(job), on_coroutine_exit<State>{job, no_member});
}

template <class State>
void spawn_producers(const std::shared_ptr<State>& job, std::size_t producers)
{
  std::shared_ptr<typename State::core_type> core = job;
  for (std::size_t p = 0; p < producers; ++p)
  {
    auto& m = job->members[p];
    asio::co_spawn(m.executor, run_producer(core, p),
                   asio::bind_cancellation_slot(m.signal.slot(), on_coroutine_exit<State>{job, p}));
  }
}

} // namespace jobrunner::detail

#endif
