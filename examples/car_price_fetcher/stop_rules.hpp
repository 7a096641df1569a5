// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_STOP_RULES_HPP
#define CAR_PRICE_FETCHER_STOP_RULES_HPP

// Rules that stop the job early because of the server (exit status 3),
// each fed with what the client sees and returning true once, when it
// trips; reason() then says why, for the summary and the rows not sent.
//
// - pushback_rule: a server that keeps pushing back (429, or 503 with
//   Retry-After) with no car priced in between.
// (A server that cannot be reached, or keeps failing, is the library's
// circuit breaker's: JobConfig::circuit_breaker, see policy.hpp.)

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

namespace car_price {

using steady_time = std::chrono::steady_clock::time_point;

// Trips when the server has pushed back for `limit` with no car priced in
// between. A zero limit never trips.
class pushback_rule
{
public:
  explicit pushback_rule(std::chrono::milliseconds limit) : limit_(limit) {}

  void priced() noexcept { streak_ = false; }

  // A push-back seen now; true when the rule trips (once).
  bool pushed_back(steady_time now)
  {
    ++count_;
    if (!streak_)
    {
      streak_ = true;
      streak_start_ = now;
    }
    if (tripped_ || limit_.count() == 0 || now - streak_start_ < limit_)
      return false;
    tripped_ = true;
    const auto seconds = std::chrono::duration<double>(now - streak_start_).count();
    char text[160];
    std::snprintf(text, sizeof text,
                  "the server kept pushing back (429) for %.0f s with no car priced "
                  "(--max-paused)",
                  seconds);
    reason_ = text;
    return true;
  }

  std::size_t count() const noexcept { return count_; }
  const std::string& reason() const noexcept { return reason_; }

private:
  std::chrono::milliseconds limit_;
  bool streak_ = false;
  steady_time streak_start_{};
  std::size_t count_ = 0;
  bool tripped_ = false;
  std::string reason_;
};

} // namespace car_price

#endif
