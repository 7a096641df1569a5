// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_JOBRUNNER_HPP
#define JOBRUNNER_JOBRUNNER_HPP

// Everything jobrunner offers.
#include <jobrunner/config.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/event.hpp>
#include <jobrunner/input.hpp>
#include <jobrunner/job_runner.hpp>
#include <jobrunner/job_summary.hpp>
#include <jobrunner/map.hpp>
#include <jobrunner/openmetrics.hpp>
#include <jobrunner/result_stream.hpp>
#include <jobrunner/retry_after.hpp>
#include <jobrunner/submitter.hpp>
#include <jobrunner/task_result.hpp>
#include <jobrunner/threading.hpp>
#include <jobrunner/version.hpp>

#endif
