// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// JobConfig::fail_fast's decisions: which final result fails the job, what
// the summary keeps, what async_run completes with. Deterministic.
#include <jobrunner/detail/policy/fail_fast.hpp>

#include "test_support.hpp"

#include <stdexcept>
#include <string>

namespace asio = boost::asio;
namespace policy = jobrunner::detail::policy;
using jobrunner::task_status;

TEST_CASE("fail_fast: failed and timed out fail the job, succeeded and cancelled do not",
          "[policy][fail_fast]")
{
  CHECK(policy::fails_job(task_status::failed));
  CHECK(policy::fails_job(task_status::timed_out));
  CHECK_FALSE(policy::fails_job(task_status::succeeded));
  CHECK_FALSE(policy::fails_job(task_status::cancelled));
}

TEST_CASE("fail_fast: the completion's error code comes from the failure", "[policy][fail_fast]")
{
  auto refused =
      std::make_exception_ptr(boost::system::system_error(asio::error::connection_refused));
  CHECK(policy::failure_of(task_status::failed, refused) == refused);
  CHECK(policy::completion_error(refused) == asio::error::connection_refused);

  auto other = std::make_exception_ptr(std::runtime_error("bad row"));
  CHECK(policy::completion_error(other) == jobrunner::errc::task_failed);
  CHECK(policy::completion_error(nullptr) == jobrunner::errc::task_failed);
  auto no_code = std::make_exception_ptr(boost::system::system_error(boost::system::error_code()));
  CHECK(policy::completion_error(no_code) == jobrunner::errc::task_failed);

  // A timeout's own exception is the operation_aborted the deadline caused:
  // the summary keeps timed_out instead, so the job does not look cancelled.
  auto aborted =
      std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
  auto kept = policy::failure_of(task_status::timed_out, aborted);
  CHECK(policy::completion_error(kept) == asio::error::timed_out);
  CHECK(std::string(make_error_code(jobrunner::errc::task_failed).message()).find("fail_fast")
        != std::string::npos);
}
