// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
//
// car_price_fetcher: prices every car of a CSV file through the car-price
// API, 50 requests at a time, on jobrunner::JobRunner. One output line per
// input row (CSV or JSON Lines), a progress display on stderr, a summary at
// the end. `car_price_fetcher --help` lists the options; README.md beside
// it explains them.
//
// The parts, each a file to copy: options.hpp (command line), input.hpp
// (CSV reading), output.hpp (CSV/JSONL writer), policy.hpp (the runner's
// configuration, retries, statuses), local_job.hpp (the single-machine
// job), redis_roles.hpp (the distributed roles, built only with hiredis).
#include "../common/cli.hpp"
#include "endpoints.hpp"
#include "input.hpp"
#include "local_job.hpp"
#include "options.hpp"
#include "output.hpp"
#include "output_file.hpp"

#ifdef CAR_PRICE_FETCHER_REDIS
#include "redis_roles.hpp"
#endif

#include <cstdio>
#include <exception>
#include <optional>

int main(int argc, char** argv)
{
  using example_cli::bad_option;
  example_cli::program() = "car_price_fetcher";
  const car_price::options opt = car_price::parse_options(argc, argv);

  std::vector<car_price::url> urls;
  try
  {
    urls = car_price::parse_urls(opt.urls);
  }
  catch (const std::exception& e)
  {
    bad_option(e.what());
  }

#ifndef CAR_PRICE_FETCHER_REDIS
  if (!opt.redis.empty())
    bad_option("--redis: this car_price_fetcher was built without Redis support (hiredis was not "
               "found when it was built; scripts/setup.sh installs it)");
#else
  if (!opt.redis.empty())
    car_price::redis_address(opt); // a malformed --redis: exit 2 before any file is touched
  if (!opt.redis.empty() && opt.redis_role != "submit")
  {
    try
    {
      if (opt.redis_role == "work")
        return car_price::run_redis_worker(opt, urls);
      return car_price::run_redis_control(opt);
    }
    catch (const std::exception& e)
    {
      std::fprintf(stderr, "car_price_fetcher: %s\n", e.what());
      return 1;
    }
  }
#endif

  // The input is checked before the output is touched: a bad header never
  // costs an existing output file.
  std::optional<car_price::input> in;
  try
  {
    in.emplace(opt.input);
    in->read_header();
  }
  catch (const std::exception& e)
  {
    std::fprintf(stderr, "car_price_fetcher: %s\n", e.what());
    return 2;
  }
  std::optional<car_price::output_file> out;
  try
  {
    out.emplace(opt.output);
  }
  catch (const std::exception& e)
  {
    std::fprintf(stderr, "car_price_fetcher: %s\n", e.what());
    return 4;
  }
  car_price::writer results(*out, opt.format == "jsonl", opt.ordered && opt.redis.empty());

#ifdef CAR_PRICE_FETCHER_REDIS
  if (!opt.redis.empty())
  {
    try
    {
      return car_price::run_redis_submitter(opt, *in, results);
    }
    catch (const std::exception& e)
    {
      std::fprintf(stderr, "car_price_fetcher: %s\n", e.what());
      return 1;
    }
  }
#endif
  return car_price::run_local_job(opt, urls, *in, results);
}
