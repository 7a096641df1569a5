// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Must NOT compile: an Item or a Result whose move constructor may throw is
// rejected with a message naming the type and the fix (test
// compile_fail.throwing_moves, run by expect_compile_error.cmake).
#include <jobrunner/jobrunner.hpp>

#include <string>

namespace {

struct throwing_item
{
  explicit throwing_item(int v) : value(v) {}
  throwing_item(throwing_item&& o) : value(o.value) {} // not noexcept
  int value;
};

struct throwing_result
{
  throwing_result() = default;
  throwing_result(const throwing_result&) = default; // no move: copies, may throw
  std::string text;
};

} // namespace

int main()
{
  boost::asio::io_context io;
  jobrunner::JobRunner<throwing_item, int> items(io, [](throwing_item& i) { return i.value; });
  jobrunner::JobRunner<int, throwing_result> results(io, [](int) { return throwing_result{}; });
  return 0;
}
