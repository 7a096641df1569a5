// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// The same runner given a JobConfig: this translation unit contains the
// policy code (test compile_cost.configured, design.md "Pay only for what you use").
#include <jobrunner/jobrunner.hpp>

#include <vector>

namespace asio = boost::asio;

int main()
{
  asio::io_context io;
  jobrunner::JobConfig config;
  config.workers = 4;
  jobrunner::JobRunner<int, long> runner(
      io, [](int x) -> asio::awaitable<long> { co_return long{x}; }, config);
  long sum = 0;
  runner.add_range(std::vector<int>{1, 2, 3}).on_task_complete([&](auto& r) {
    if (r.ok())
      sum += *r.value;
  });
  runner.run();
  return sum == 6 ? 0 : 1;
}
