// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_METRICS_FILE_HPP
#define CAR_PRICE_FETCHER_METRICS_FILE_HPP

// --metrics-file PATH --metrics-interval S: the job's statistics in the
// OpenMetrics text format (jobrunner::to_openmetrics), written every S
// seconds while the job runs and once at its end, each time atomically
// (a temporary file beside it, then rename): the node-exporter textfile
// collector's convention for batch jobs.

#include <boost/asio.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <unistd.h>

namespace car_price {

class metrics_file
{
public:
  metrics_file(boost::asio::io_context& io, std::string path, double interval_s)
      : timer_(io), path_(std::move(path)),
        interval_(std::chrono::milliseconds(static_cast<long long>(interval_s * 1000)))
  {}

  bool enabled() const noexcept { return !path_.empty(); }

  // Writes `text` to the file atomically; false (and errno's reason in
  // error()) if it could not.
  bool write(const std::string& text)
  {
    const std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (f != nullptr)
      ok = std::fclose(f) == 0 && ok;
    ok = ok && std::rename(tmp.c_str(), path_.c_str()) == 0;
    if (!ok)
    {
      error_ = path_ + ": " + std::strerror(errno);
      std::remove(tmp.c_str());
    }
    return ok;
  }

  const std::string& error() const noexcept { return error_; }

  // Every interval, writes what `text()` gives (a failed write is reported
  // once on stderr; the job goes on).
  void start(std::function<std::string()> text)
  {
    text_ = std::move(text);
    arm();
  }

  // The job's end: no more periodic writes; the caller writes the last text.
  void stop() { timer_.cancel(); }

private:
  void arm()
  {
    timer_.expires_after(interval_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec)
        return;
      if (!write(text_()) && !warned_)
      {
        warned_ = true;
        std::fprintf(stderr, "car_price_fetcher: cannot write the metrics: %s\n", error_.c_str());
      }
      arm();
    });
  }

  boost::asio::steady_timer timer_;
  std::string path_;
  std::chrono::milliseconds interval_;
  std::function<std::string()> text_;
  std::string error_;
  bool warned_ = false;
};

} // namespace car_price

#endif
