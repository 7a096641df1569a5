// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_SUPPORT_HPP
#define JOBRUNNER_DETAIL_POLICY_SUPPORT_HPP

// Pay at compile time only for what you use: the code only a configured job
// can run (the policy worker, the ordered result handler, the retry queue,
// the key area) is reached through one table per job type, which only
// JobRunner's constructors taking a JobConfig name (enable_policies). A
// runner made without a JobConfig has no policy, so its translation unit
// never instantiates that code.

#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/result_handler.hpp>
#include <jobrunner/detail/worker.hpp>
#include <jobrunner/detail/worker_keys.hpp>

namespace jobrunner::detail {

// Retries off the workers: each due retry sends a "retry due" message into
// the work queue, never cancelled (no slot bound, the channel never closed):
// it completes when a worker has received it. Made by the controller.
template <class State>
void create_retry_queue(State& job)
{
  using threading = typename State::threading;
  const auto ex = job.executor();
  job.retries.create(
      job.config().retry_slots(), [&ex] { return threading::coroutine_executor(ex); },
      [&job] {
        job.work().async_send(retry_due(), typename State::work_message_type{}, [](error_code) {});
      },
      job.cancel_flag());
  if (job.cancel_requested())
    job.retries.cancel_all(job.alive());
}

// Ends the waits of the retry queue and of the key area (a cancelled job).
template <class State>
void cancel_waiting(State& job) noexcept
{
  job.retries.cancel_all(job.alive());
  if (job.keys)
    job.keys->cancel_all(job.alive());
}

template <class Item, class Result, class Threading>
const policy_support<job_state<Item, Result, Threading>>* full_policy_support() noexcept
{
  using state = job_state<Item, Result, Threading>;
  static constexpr policy_support<state> table{
      &run_worker<true, Item, Result, Threading>,
      &run_result_handler<true, Item, Result, Threading>,
      &create_retry_queue<state>,
      &cancel_waiting<state>,
  };
  return &table;
}

// A runner given a JobConfig: the table, and the key area its per-key
// limits need (made at construction, before any thread reads it).
template <class Item, class Result, class Threading>
void enable_policies(job_state<Item, Result, Threading>& job)
{
  job.support = full_policy_support<Item, Result, Threading>();
  if (job.config().per_key.enabled) // per-key limits (issue 14)
    make_key_area<Threading>(job.keys, job, job.cancel_flag());
}

} // namespace jobrunner::detail

#endif
