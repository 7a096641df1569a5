// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// A consumer of the packaged library: doubles 0..99 and checks the sum.
#include <jobrunner/jobrunner.hpp>

#include <vector>

int main()
{
  boost::asio::io_context io;
  jobrunner::JobRunner<int, int> runner(io, [](int x) { return 2 * x; });
  long sum = 0;
  std::vector<int> input(100);
  for (int i = 0; i < 100; ++i)
    input[static_cast<std::size_t>(i)] = i;
  runner.add_range(input).on_task_complete([&](auto& r) { sum += *r.value; });
  auto summary = runner.run();
  return sum == 9900 && summary.succeeded == 100 ? 0 : 1;
}
