// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Ordered delivery's two halves: the window (who may start) and the
// reorder buffer (results out in sequence). Deterministic.
#include <jobrunner/detail/policy/reorder.hpp>

#include "test_support.hpp"

#include <cstdint>
#include <vector>

using jobrunner::detail::policy::reorder_buffer;
using jobrunner::detail::policy::reorder_window;

namespace {

// Move-constructible only, as a user's Result may be.
struct result
{
  explicit result(std::uint64_t s) : sequence(s) {}
  result(result&&) = default;
  result& operator=(result&&) = delete;
  std::uint64_t sequence;
};

} // namespace

TEST_CASE("reorder window: item s starts only once s < delivered + window", "[policy][ordered]")
{
  reorder_window window(3);
  CHECK(window.admits(0, 10));
  CHECK(window.admits(2, 11));
  CHECK_FALSE(window.admits(3, 12)); // registered
  CHECK_FALSE(window.admits(5, 13));
  std::vector<std::size_t> woken;
  auto wake = [&](std::size_t w) { woken.push_back(w); };
  window.delivered(1, wake); // bound 4: item 3's waiter
  CHECK(woken == std::vector<std::size_t>{12});
  window.delivered(2, wake); // bound 5: none
  CHECK(woken.size() == 1);
  window.delivered(3, wake); // bound 6: item 5's waiter
  CHECK(woken == std::vector<std::size_t>{12, 13});
  window.delivered(10, wake); // nobody left
  CHECK(woken.size() == 2);
}

TEST_CASE("reorder buffer: results go out in sequence whatever their arrival order",
          "[policy][ordered]")
{
  reorder_buffer<result> buffer(4);
  std::vector<std::uint64_t> out;
  auto deliver = [&](result& r) { out.push_back(r.sequence); };
  for (std::uint64_t s : {2u, 1u, 3u})
    buffer.push(result(s), deliver);
  CHECK(out.empty());
  buffer.push(result(0), deliver);
  CHECK(out == std::vector<std::uint64_t>{0, 1, 2, 3});
  CHECK(buffer.next() == 4);
  // Within the window (s < next + 4) every waiting result has its own slot.
  for (std::uint64_t s : {7u, 5u, 6u, 4u})
    buffer.push(result(s), deliver);
  CHECK(out == std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("reorder buffer: flush delivers what is left in sequence", "[policy][ordered]")
{
  reorder_buffer<result> buffer(8);
  std::vector<std::uint64_t> out;
  auto deliver = [&](result& r) { out.push_back(r.sequence); };
  for (std::uint64_t s : {6u, 2u, 4u})
    buffer.push(result(s), deliver);
  buffer.flush(deliver);
  CHECK(out == std::vector<std::uint64_t>{2, 4, 6});
}
