// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef CAR_PRICE_FETCHER_OPTIONS_HPP
#define CAR_PRICE_FETCHER_OPTIONS_HPP

// The fetcher's command line: every option, its default, and `--help`.
// A bad option is a usage error (exit status 2).

#include "../common/cli.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace car_price {

struct options
{
  std::vector<std::string> urls; // --url, repeatable; none given: default_url
  static constexpr const char* default_url = "http://127.0.0.1:8080/v1/price";
  std::string input = "-";
  std::string output = "-";
  std::string format; // csv | jsonl; default from --output's extension
  std::size_t workers = 50;
  std::size_t queue = 100;
  long timeout_ms = 5000;
  std::size_t retries = 3;
  long backoff_ms = 100;
  double rate = 0;
  std::uint64_t max_failures = 0;
  double max_failure_ratio = 0;
  std::size_t max_pushbacks = 20;  // push-backs one row may take
  long max_retry_after_s = 60;     // longer Retry-After values are cut to this
  double max_paused_s = 120;       // stop once the server has pushed back this long
  double retry_budget = 0.2;       // retries per first request at most (+10/s); 0: no budget
  double breaker = 0.5;            // the failure share that opens the circuit breaker; 0: off
  long breaker_open_ms = 1000;     // the breaker's first open time
  double unavailable_after_s = 10; // give up once the breaker stayed open this long; 0: never
  long per_host = -1;              // requests in flight to one host at most; -1: auto (policy.hpp)
  double per_host_rate = 0;        // requests a second to one host at most; 0: no limit
  bool ordered = false;
  bool adaptive = false;
  std::string ca_file;
  std::string progress = "auto"; // auto | bar | lines | none
  std::string trace;             // a file: one line per request event
  std::string metrics_file;      // OpenMetrics text, rewritten every metrics_interval_s
  double metrics_interval_s = 10;
  std::string redis; // host:port or redis://...: distributed mode
  std::string redis_role = "work";
  std::string redis_job = "car_price";
  std::string consumer;
  // Re-attaching a submitter to a running job (--attach, --job-id).
  bool attach = false;
  std::string job_id; // empty: the latest job of --redis-job
};

inline void usage(std::FILE* out)
{
  std::fprintf(out, R"(usage: car_price_fetcher [options]

Prices each car of a CSV file (columns make, model, year, mileage; header
required) through the car-price API, and writes one line per input row.

  --url URL            the API endpoint (default http://127.0.0.1:8080/v1/price); https:// works.
                       Repeat it to spread the rows over several endpoints: the row on
                       line L goes to URL number L mod (the number of URLs)
  --per-host N         at most N requests in flight to one host (host:port); rows of a
                       busy host wait aside while the workers serve the others (default:
                       half of --workers when the URLs name two or more hosts, else no
                       limit; 0: no limit)
  --per-host-rate R    at most R requests a second to one host (default: no limit)
  --input FILE         the CSV input, - for stdin (default -)
  --output FILE        where results go, - for stdout (default -)
  --format csv|jsonl   output format (default: jsonl for *.jsonl/*.json, else csv)
  --workers N          requests in flight at most (default 50)
  --queue N            cars read ahead of the workers (default 100)
  --timeout MS         per-request timeout in milliseconds (default 5000; 0: none)
  --retries N          retries after network errors, timeouts and 5xx (default 3)
  --backoff MS         first retry's backoff cap; doubles each time, full jitter (default 100)
  --rate R             at most R requests a second (default: no limit)
  --max-failures N     abort after N failed cars (default: no limit)
  --max-failure-ratio X  abort when more than X of the results failed, after 50 (default: off)
  --max-pushbacks N    push-backs (429) one row may take before it fails (default 20)
  --max-retry-after S  obey a Retry-After of at most S seconds; longer ones are cut to S
                       (default 60)
  --max-paused S       stop the job once the server has pushed back for S seconds
                       with no car priced (default 120; 0: no limit)
  --retry-budget X     retries may add at most X of the first requests, plus 10 a
                       second, over the last 10 s: an outage does not become a retry
                       storm; a row refused a retry keeps its last error (default 0.2;
                       0: no budget, every row gets its --retries)
  --breaker X          circuit breaker: stop sending for a while once more than X of
                       the last 50 requests (20 at least) failed with a network error,
                       a timeout or a 5xx (default 0.5; 0: no breaker)
  --breaker-open MS    how long the breaker stays open before a probe request; doubles
                       after each failed probe, up to 30 s (default 1000)
  --unavailable-after S  stop the job once the breaker has stayed open for S seconds:
                       the server is unavailable (default 10; 0: never)
  --ordered            write results in input order (no per-host limits then)
  --adaptive           adapt the number of requests in flight to the server (AIMD)
  --ca-file FILE       trust this CA certificate (PEM) for https, besides the system's
  --progress MODE      auto (a bar on a terminal, else lines), bar, lines or none
  --trace FILE         write one line per request event (start, send, answer) with
                       steady-clock nanoseconds, for debugging
  --metrics-file FILE  write the job's statistics in the OpenMetrics text format to
                       FILE, every --metrics-interval seconds and at the end, each
                       time atomically (temporary file, then rename)
  --metrics-interval S seconds between two writes of --metrics-file (default 10)
  --redis ADDRESS      distributed mode: share the job through Redis Streams;
                       HOST:PORT or redis://[[USER]:PASSWORD@]HOST[:PORT]
  --redis-role ROLE    submit (reads --input, writes --output once every car has a
                       result), work (prices cars from the stream; default),
                       status (prints the job's state) or cancel (cancels it)
  --redis-job NAME     the job's name in Redis (default car_price)
  --consumer NAME      this worker's name in the consumer group (default host-pid)
  --attach             with --redis-role submit: submit nothing; collect the results of
                       the job already running (after the submitter died or Redis
                       restarted), reading the same --input
  --job-id ID          the job to --attach to, or to show with --redis-role status
                       (default: the latest job of --redis-job); implies --attach
  --help

A 429 (or 503 with Retry-After) pauses every request until the time the
server asks for (at most --max-retry-after), then the car is sent again.
A first SIGINT/SIGTERM drains: no more cars are sent (the rows not sent are
written "cancelled"), those in flight finish; a second one cancels them.
Exit status: 0 every car priced; 1 some cars failed or rows were invalid;
2 bad options or input; 3 stopped early (failure budget, the server kept
pushing back, or it is unavailable); 4 the output could not be written;
130 interrupted.
)");
}

using example_cli::bad_option;

inline options parse_options(int argc, char** argv)
{
  options o;
  for (int i = 1; i < argc; ++i)
  {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h")
    {
      usage(stdout);
      std::exit(0);
    }
    if (a == "--ordered")
    {
      o.ordered = true;
      continue;
    }
    if (a == "--adaptive")
    {
      o.adaptive = true;
      continue;
    }
    if (a == "--attach")
    {
      o.attach = true;
      continue;
    }
    if (i + 1 >= argc)
      bad_option("unknown option or missing value: " + a);
    const char* v = argv[++i];
    auto num = [&](double lo, double hi) { return example_cli::number(a, v, lo, hi); };
    if (a == "--url")
      o.urls.emplace_back(v);
    else if (a == "--input")
      o.input = v;
    else if (a == "--output")
      o.output = v;
    else if (a == "--format")
    {
      o.format = v;
      if (o.format != "csv" && o.format != "jsonl")
        bad_option("--format is csv or jsonl");
    }
    else if (a == "--workers")
      o.workers = static_cast<std::size_t>(num(1, 100000));
    else if (a == "--queue")
      o.queue = static_cast<std::size_t>(num(0, 1e7));
    else if (a == "--timeout")
      o.timeout_ms = static_cast<long>(num(0, 3.6e6));
    else if (a == "--retries")
      o.retries = static_cast<std::size_t>(num(0, 100));
    else if (a == "--backoff")
      o.backoff_ms = static_cast<long>(num(0, 3.6e6));
    else if (a == "--per-host")
      o.per_host = static_cast<long>(num(0, 100000));
    else if (a == "--per-host-rate")
      o.per_host_rate = num(0, 1e6);
    else if (a == "--rate")
      o.rate = num(0, 1e6);
    else if (a == "--max-failures")
      o.max_failures = static_cast<std::uint64_t>(num(0, 1e15));
    else if (a == "--max-failure-ratio")
      o.max_failure_ratio = num(0, 1);
    else if (a == "--max-pushbacks")
      o.max_pushbacks = static_cast<std::size_t>(num(0, 1e6));
    else if (a == "--max-retry-after")
      o.max_retry_after_s = static_cast<long>(num(0, 86400));
    else if (a == "--max-paused")
      o.max_paused_s = num(0, 1e7);
    else if (a == "--retry-budget")
      o.retry_budget = num(0, 1000);
    else if (a == "--breaker")
      o.breaker = num(0, 1);
    else if (a == "--breaker-open")
      o.breaker_open_ms = static_cast<long>(num(1, 30000));
    else if (a == "--unavailable-after" || a == "--unreachable-after") // the old name
      o.unavailable_after_s = num(0, 86400);
    else if (a == "--trace")
      o.trace = v;
    else if (a == "--metrics-file")
      o.metrics_file = v;
    else if (a == "--metrics-interval")
      o.metrics_interval_s = num(0.01, 86400);
    else if (a == "--ca-file")
      o.ca_file = v;
    else if (a == "--redis")
      o.redis = v;
    else if (a == "--redis-role")
    {
      o.redis_role = v;
      if (o.redis_role != "submit" && o.redis_role != "work" && o.redis_role != "status"
          && o.redis_role != "cancel")
        bad_option("--redis-role is submit, work, status or cancel");
    }
    else if (a == "--redis-job")
      o.redis_job = v;
    else if (a == "--consumer")
      o.consumer = v;
    else if (a == "--job-id")
    {
      o.job_id = v;
      o.attach = true;
      if (o.job_id.empty() || o.job_id.find_first_not_of("0123456789") != std::string::npos)
        bad_option("--job-id is a job's number (as submit and status print it)");
    }
    else if (a == "--progress")
    {
      o.progress = v;
      if (o.progress != "auto" && o.progress != "bar" && o.progress != "lines"
          && o.progress != "none")
        bad_option("--progress is auto, bar, lines or none");
    }
    else
      bad_option("unknown option: " + a);
  }
  if (o.urls.empty())
    o.urls.emplace_back(options::default_url);
  if (o.ordered && (o.per_host > 0 || o.per_host_rate > 0))
    bad_option("--per-host and --per-host-rate do not go with --ordered (rows of a busy host "
               "would hold back every later row)");
  if (o.attach && o.redis_role != "submit" && o.redis_role != "status")
    bad_option("--attach and --job-id go with --redis-role submit (or status)");
  if (o.format.empty())
  {
    auto ends = [&](const std::string& suffix) {
      return o.output.size() >= suffix.size()
             && o.output.compare(o.output.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    o.format = ends(".jsonl") || ends(".json") ? "jsonl" : "csv";
  }
  return o;
}

} // namespace car_price

#endif
