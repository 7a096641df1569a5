// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// A consumer of the packaged jobrunner::redis: its headers compile and it
// links against hiredis. A command to a port nobody listens on must fail
// with redis::error (no Redis server is needed).
#include <jobrunner/redis/stream_job.hpp>

#include <cstdio>
#include <string>

namespace asio = boost::asio;

int main()
{
  asio::io_context io;
  unsigned short port = 0;
  {
    // A port that was free a moment ago: nothing listens on it.
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  jobrunner::redis::stream_job_config cfg;
  cfg.name = "consumer";
  auto conn = jobrunner::redis::connection::connect(io.get_executor(), "127.0.0.1", port);
  std::string outcome = "no answer";
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto status = co_await jobrunner::redis::read_status(*conn, cfg);
        outcome = "answered: total " + std::to_string(status.progress.total);
      },
      [&](std::exception_ptr e) {
        if (!e)
          return;
        try
        {
          std::rethrow_exception(e);
        }
        catch (const jobrunner::redis::error& x)
        {
          outcome = std::string("error: ") + x.what();
        }
      });
  io.run();
  std::printf("%s\n", outcome.c_str());
  return outcome.rfind("error: redis", 0) == 0 ? 0 : 1;
}
