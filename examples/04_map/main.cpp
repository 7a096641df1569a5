// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The shortest program: a function over a range, results in input order.
#include <jobrunner/jobrunner.hpp>

#include <cstdio>
#include <vector>

int main()
{
  auto squares = jobrunner::map(std::vector{1, 2, 3, 4, 5}, [](int x) { return x * x; });
  for (auto& r : squares)
    std::printf("%d -> %d\n", r.item, *r.value);
}
