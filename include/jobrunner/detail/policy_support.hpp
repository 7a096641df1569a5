// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_POLICY_SUPPORT_HPP
#define JOBRUNNER_DETAIL_POLICY_SUPPORT_HPP

// Pay at compile time only for what you use: the code only a configured job
// can run (the policy worker, the ordered result handler, the retry queue)
// is reached through one table per job type, which only JobRunner's
// constructors taking a JobConfig name. A runner made without a JobConfig
// has no policy, so its translation unit never instantiates that code.

#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/result_handler.hpp>
#include <jobrunner/detail/worker.hpp>

namespace jobrunner::detail {

template <class Item, class Result, class Threading>
const policy_support<job_state<Item, Result, Threading>>* full_policy_support() noexcept
{
  using state = job_state<Item, Result, Threading>;
  static constexpr policy_support<state> table{
      &run_worker<true, Item, Result, Threading>,
      &run_result_handler<true, Item, Result, Threading>,
      [](state& job) { job.create_retry_queue(); },
      [](state& job) noexcept { job.cancel_retries(); },
  };
  return &table;
}

} // namespace jobrunner::detail

#endif
