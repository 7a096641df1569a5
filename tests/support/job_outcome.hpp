// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_TESTS_SUPPORT_JOB_OUTCOME_HPP
#define JOBRUNNER_TESTS_SUPPORT_JOB_OUTCOME_HPP

#include <jobrunner/job_summary.hpp>

#include "test_support.hpp"

#include <boost/system/error_code.hpp>

#include <utility>

namespace jobrunner::test {

// What async_run completed with, and how many times its handler ran.
struct outcome
{
  int calls = 0;
  boost::system::error_code ec;
  JobSummary summary;

  bool done() const { return calls > 0; }

  auto handler()
  {
    return [this](boost::system::error_code e, JobSummary s) {
      CHECK(calls == 0); // the handler runs once
      ++calls;
      ec = e;
      summary = std::move(s);
    };
  }
};

template <class Runner>
void start(Runner& runner, outcome& out)
{
  runner.async_run(out.handler());
}

} // namespace jobrunner::test

#endif
