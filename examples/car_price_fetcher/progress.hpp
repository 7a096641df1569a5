// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_PROGRESS_HPP
#define CAR_PRICE_FETCHER_PROGRESS_HPP

// The progress display on stderr: a bar redrawn in place on a terminal,
// else a line every two seconds (--progress auto|bar|lines|none).

#include <boost/asio.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <unistd.h>

namespace car_price {

// What the display shows, taken when it is drawn.
struct progress_snapshot
{
  std::uint64_t done = 0;     // rows with a final outcome
  std::uint64_t total = 0;    // 0: not known yet
  std::uint64_t priced = 0;   // rows sent and answered (for the rate)
  std::uint64_t failures = 0; // failed or timed out
  double seconds = 0;         // since the start
};

class progress
{
public:
  progress(boost::asio::io_context& io, const std::string& option,
           std::function<progress_snapshot()> snapshot)
      : ticker_(io), snapshot_(std::move(snapshot))
  {
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    mode_ = option == "auto" ? (tty ? "bar" : "lines") : option;
  }

  bool is_bar() const noexcept { return mode_ == "bar"; }

  void start()
  {
    if (mode_ != "none")
      tick();
  }

  // Stops the ticks and draws the last state.
  void finish()
  {
    finished_ = true;
    ticker_.cancel();
  }

  void show(bool last)
  {
    if (mode_ == "none")
      return;
    const auto s = snapshot_();
    const double rate = s.seconds > 0 ? static_cast<double>(s.priced) / s.seconds : 0;
    char eta[32] = "?";
    if (s.total != 0 && rate > 0 && s.total >= s.done)
      std::snprintf(eta, sizeof eta, "%.0fs", static_cast<double>(s.total - s.done) / rate);
    const std::string total = s.total != 0 ? std::to_string(s.total) : "?";
    if (mode_ == "bar")
    {
      const int width = 30;
      const double frac =
          s.total != 0 ? static_cast<double>(s.done) / static_cast<double>(s.total) : 0;
      const int filled = static_cast<int>(frac * width + 0.5);
      std::fprintf(stderr, "\r[%.*s%*s] %llu/%s %3.0f%% %7.1f cars/s ETA %-6s failures %llu ",
                   filled, "==============================", width - filled, "",
                   static_cast<unsigned long long>(s.done), total.c_str(), frac * 100, rate, eta,
                   static_cast<unsigned long long>(s.failures));
      if (last)
        std::fputc('\n', stderr);
    }
    else
      std::fprintf(stderr, "progress: %llu/%s done, %.1f cars/s, ETA %s, failures %llu\n",
                   static_cast<unsigned long long>(s.done), total.c_str(), rate, eta,
                   static_cast<unsigned long long>(s.failures));
  }

private:
  void tick()
  {
    using namespace std::chrono_literals;
    ticker_.expires_after(mode_ == "bar" ? 200ms : 2s);
    ticker_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_)
        return;
      show(false);
      tick();
    });
  }

  boost::asio::steady_timer ticker_;
  std::function<progress_snapshot()> snapshot_;
  std::string mode_;
  bool finished_ = false;
};

} // namespace car_price

#endif
