// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// A crawler: each fetched page yields links, and the new ones are added to the
// running job (JobRunner::open_input). The job ends by itself once every page
// has been handled and nothing new was found (input_end::when_idle). Results
// are pulled in a coroutine loop (JobRunner::results). The "web" is a
// synthetic graph of `pages` pages; a fetch is a short timer.
// Usage: crawler [pages] (default 1000).
#include <jobrunner/jobrunner.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace asio = boost::asio;

// Page p links to three others (p + 1 makes every page reachable from 0).
std::vector<int> links_of(int p, int pages)
{
  return {(p + 1) % pages, (p * 7 + 3) % pages, (p * 11 + 5) % pages};
}

int main(int argc, char** argv)
{
  const int pages = argc > 1 ? std::atoi(argv[1]) : 1000;
  if (pages < 1)
    return 2;
  asio::io_context io;
  jobrunner::JobConfig config;
  config.workers = 16; // pages fetched at once

  auto fetch = [pages](int page) -> asio::awaitable<std::vector<int>> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::microseconds(200));
    co_await t.async_wait(asio::use_awaitable); // stands for the HTTP GET
    co_return links_of(page, pages);
  };
  jobrunner::JobRunner<int, std::vector<int>> runner(io, fetch, config);
  auto input = runner.open_input(jobrunner::input_end::when_idle);
  auto results = runner.results();

  std::vector<int> times_crawled(static_cast<std::size_t>(pages), 0);
  std::vector<bool> seen(static_cast<std::size_t>(pages), false);
  seen[0] = true;
  int seed = 0;
  input.try_add(seed); // the start page; the queue is empty, so it fits

  long links = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (auto r = co_await results.async_next(asio::use_awaitable))
        {
          ++times_crawled[static_cast<std::size_t>(r->item)];
          if (!r->ok())
            continue;
          for (int link : *r->value)
          {
            ++links;
            if (seen[static_cast<std::size_t>(link)])
              continue;
            seen[static_cast<std::size_t>(link)] = true;
            // Never *wait* for an add here: the job cannot make room while
            // its puller waits. A full queue: the add waits in its operation.
            if (!input.try_add(link))
              input.async_add(link, [](boost::system::error_code ec) {
                if (ec)
                  std::fprintf(stderr, "add failed: %s\n", ec.message().c_str());
              });
          }
        }
      },
      [](std::exception_ptr e) {
        if (e)
          std::rethrow_exception(e);
      });

  auto summary = runner.run(); // ends when the crawl is idle
  int crawled = 0;
  int twice = 0;
  for (int n : times_crawled)
  {
    crawled += n > 0 ? 1 : 0;
    twice += n > 1 ? 1 : 0;
  }
  std::printf("crawled %d of %d pages (%d more than once), %ld links, %llu failed\n", crawled,
              pages, twice, links, static_cast<unsigned long long>(summary.failed));
  return crawled == pages && twice == 0 && summary.failed == 0 ? 0 : 1;
}
