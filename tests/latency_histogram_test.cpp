// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#include <jobrunner/detail/latency_histogram.hpp>

#include "test_support.hpp"

#include <cstdint>

using jobrunner::detail::latency_histogram;

TEST_CASE("histogram of no values reports zeros", "[histogram]")
{
  latency_histogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile(0.5) == 0);
  CHECK(h.max() == 0);
}

TEST_CASE("histogram percentiles are within 3 percent of the exact ones", "[histogram]")
{
  latency_histogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v)
    h.record(v * 1000); // 1 us .. 100 ms, uniform
  CHECK(h.count() == 100000);
  CHECK(h.max() == 100000000);
  auto within = [](std::uint64_t got, double exact) {
    return static_cast<double>(got) >= exact * 0.999 && static_cast<double>(got) <= exact * 1.035;
  };
  CHECK(within(h.percentile(0.50), 50e6));
  CHECK(within(h.percentile(0.90), 90e6));
  CHECK(within(h.percentile(0.99), 99e6));
  CHECK(h.percentile(1.0) == 100000000);
}

TEST_CASE("histogram small values are exact and the maximum is never exceeded", "[histogram]")
{
  latency_histogram h;
  h.record(3);
  h.record(7);
  h.record(7);
  CHECK(h.percentile(0.5) == 7);
  CHECK(h.percentile(0.01) == 3);
  latency_histogram g;
  g.record(1000003);
  CHECK(g.percentile(0.5) == 1000003);
}
