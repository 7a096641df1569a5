// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The test runner's main for Catch2 2 (Catch2 3 links Catch2WithMain instead).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
