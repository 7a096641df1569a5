// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_VERSION_HPP
#define JOBRUNNER_VERSION_HPP

#define JOBRUNNER_VERSION_MAJOR 0
#define JOBRUNNER_VERSION_MINOR 1
#define JOBRUNNER_VERSION_PATCH 0

#endif
