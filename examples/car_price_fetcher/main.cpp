// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
//
// car_price_fetcher: prices every car of a CSV file through the car-price
// API, 50 requests at a time, on jobrunner::JobRunner. One output line per
// input row (CSV or JSON Lines), a progress display on stderr, a summary at
// the end. `car_price_fetcher --help` lists the options; README.md beside
// it explains them.
#include <jobrunner/jobrunner.hpp>

#include "../common/cli.hpp"
#include "csv.hpp"
#include "distributed.hpp"
#include "http_client.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <vector>

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using car_price::car;

namespace {

struct options
{
  std::string url = "http://127.0.0.1:8080/v1/price";
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
  bool ordered = false;
  bool adaptive = false;
  std::string ca_file;
  std::string progress = "auto"; // auto | bar | lines | none
  std::string redis;             // host:port: distributed mode
  std::string redis_role = "work";
  std::string redis_job = "car_price";
  std::string consumer;
};

void usage(std::FILE* out)
{
  std::fprintf(out, R"(usage: car_price_fetcher [options]

Prices each car of a CSV file (columns make, model, year, mileage; header
required) through the car-price API, and writes one line per input row.

  --url URL            the API endpoint (default http://127.0.0.1:8080/v1/price); https:// works
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
  --ordered            write results in input order
  --adaptive           adapt the number of requests in flight to the server (AIMD)
  --ca-file FILE       trust this CA certificate (PEM) for https, besides the system's
  --progress MODE      auto (a bar on a terminal, else lines), bar, lines or none
  --redis HOST:PORT    distributed mode: share the job through Redis Streams
  --redis-role ROLE    submit (reads --input, writes --output once every car has a
                       result) or work (prices cars from the stream; default)
  --redis-job NAME     the job's key prefix in Redis (default car_price)
  --consumer NAME      this worker's name in the consumer group (default host-pid)
  --help

A 429 (or 503 with Retry-After) pauses every request until the time the
server asks for, then the car is sent again.
Exit status: 0 every car priced; 1 some cars failed or rows were invalid;
2 bad options or input header; 3 aborted by the failure budget; 130 interrupted.
)");
}

using example_cli::bad_option;

options parse_options(int argc, char** argv)
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
    if (i + 1 >= argc)
      bad_option("unknown option or missing value: " + a);
    const char* v = argv[++i];
    auto num = [&](double lo, double hi) { return example_cli::number(a, v, lo, hi); };
    if (a == "--url")
      o.url = v;
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
    else if (a == "--rate")
      o.rate = num(0, 1e6);
    else if (a == "--max-failures")
      o.max_failures = static_cast<std::uint64_t>(num(0, 1e15));
    else if (a == "--max-failure-ratio")
      o.max_failure_ratio = num(0, 1);
    else if (a == "--ca-file")
      o.ca_file = v;
    else if (a == "--redis")
      o.redis = v;
    else if (a == "--redis-role")
    {
      o.redis_role = v;
      if (o.redis_role != "submit" && o.redis_role != "work")
        bad_option("--redis-role is submit or work");
    }
    else if (a == "--redis-job")
      o.redis_job = v;
    else if (a == "--consumer")
      o.consumer = v;
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

// One output line per input row, CSV or JSON Lines.
class writer
{
public:
  writer(std::ostream& out, bool jsonl) : out_(out), jsonl_(jsonl)
  {
    if (!jsonl_)
      out_ << "line,make,model,year,mileage,status,price,currency,attempts,error\n";
  }

  void priced(const car& c, const char* status, const car_price::quote* q, unsigned attempts,
              const std::string& error)
  {
    if (jsonl_)
    {
      json::object o{{"line", c.line},      {"make", c.make},       {"model", c.model},
                     {"year", c.year},      {"mileage", c.mileage}, {"status", status},
                     {"attempts", attempts}};
      if (q != nullptr)
        o["currency"] = q->currency;
      else
        o["error"] = error;
      auto text = json::serialize(o);
      if (q != nullptr)
      {
        // Cents, not the serializer's shortest form (1.994701E4).
        char price[64];
        std::snprintf(price, sizeof price, ",\"price\":%.2f}", q->price);
        text.pop_back();
        text += price;
      }
      out_ << text << '\n';
      return;
    }
    char price[64] = "";
    if (q != nullptr)
      std::snprintf(price, sizeof price, "%.2f", q->price);
    out_ << c.line << ',' << quoted(c.make) << ',' << quoted(c.model) << ',' << c.year << ','
         << c.mileage << ',' << status << ',' << price << ','
         << (q != nullptr ? quoted(q->currency) : std::string()) << ',' << attempts << ','
         << quoted(error) << '\n';
  }

  void invalid(const car_price::bad_row& b)
  {
    if (jsonl_)
    {
      out_ << json::serialize(json::object{{"line", b.line},
                                           {"status", "invalid"},
                                           {"attempts", 0},
                                           {"row", b.text},
                                           {"error", b.error}})
           << '\n';
      return;
    }
    out_ << b.line << ",,,,,invalid,,,0," << quoted(b.error + ": " + b.text) << '\n';
  }

  void flush() { out_.flush(); }

private:
  static std::string quoted(const std::string& s)
  {
    if (s.find_first_of(",\"\n\r") == std::string::npos)
      return s;
    std::string q = "\"";
    for (char ch : s)
    {
      if (ch == '"')
        q += '"';
      q += ch;
    }
    return q + '"';
  }

  std::ostream& out_;
  bool jsonl_;
};

std::string describe(std::exception_ptr e)
{
  if (!e)
    return {};
  try
  {
    std::rethrow_exception(e);
  }
  catch (const jobrunner::retry_after&)
  {
    return "the server kept asking to retry later (429)";
  }
  catch (const boost::system::system_error& x)
  {
    return x.code().message();
  }
  catch (const std::exception& x)
  {
    return x.what();
  }
  catch (...)
  {
    return "unknown error";
  }
}

// Retry network errors, timeouts and 5xx; not 4xx nor malformed answers.
template <class Result>
bool retryable(const Result& r)
{
  if (r.status == jobrunner::task_status::timed_out)
    return true;
  if (r.status != jobrunner::task_status::failed || !r.error)
    return false;
  try
  {
    std::rethrow_exception(r.error);
  }
  catch (const car_price::http_status_error& e)
  {
    return e.server_side();
  }
  catch (const car_price::bad_response&)
  {
    return false;
  }
  catch (const boost::system::system_error& e)
  {
    return e.code() != asio::error::operation_aborted;
  }
  catch (...)
  {
    return false;
  }
}

jobrunner::JobConfig make_config(const options& opt)
{
  jobrunner::JobConfig config;
  config.workers = opt.workers;
  config.work_queue_capacity = opt.queue;
  config.task_timeout = std::chrono::milliseconds(opt.timeout_ms);
  config.retry.max_attempts = opt.retries + 1;
  config.retry.initial_backoff = std::chrono::milliseconds(opt.backoff_ms);
  config.retry.max_backoff = std::chrono::milliseconds(opt.backoff_ms) * 64;
  config.rate_limit.per_second = opt.rate;
  config.rate_limit.burst = opt.rate > 0 ? std::max<std::size_t>(1, opt.workers / 10) : 1;
  config.failure_budget.max_failures = opt.max_failures;
  config.failure_budget.max_failure_ratio = opt.max_failure_ratio;
  config.failure_budget.min_results = 50;
  config.ordered_delivery = opt.ordered;
  config.adaptive_concurrency.enabled = opt.adaptive;
  config.max_pushbacks = 20;
  return config;
}

// A result's status word and error text, as the output writes them.
template <class Result>
std::pair<const char*, std::string> status_of(const Result& r, long timeout_ms)
{
  switch (r.status)
  {
  case jobrunner::task_status::succeeded:
    return {"ok", {}};
  case jobrunner::task_status::failed:
    return {"failed", describe(r.error)};
  case jobrunner::task_status::timed_out:
    return {"timed_out", "no answer within " + std::to_string(timeout_ms) + " ms"};
  case jobrunner::task_status::cancelled:
    break;
  }
  return {"cancelled", r.error ? describe(r.error) : "not sent: the job was stopped"};
}

asio::ssl::context make_tls(const options& opt)
{
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_default_verify_paths();
  tls.set_verify_mode(asio::ssl::verify_peer);
  if (!opt.ca_file.empty())
  {
    boost::system::error_code ec;
    tls.load_verify_file(opt.ca_file, ec);
    if (ec)
      bad_option("cannot load --ca-file " + opt.ca_file + ": " + ec.message());
  }
  return tls;
}

std::string default_consumer()
{
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

jobrunner::redis::stream_job_config redis_job(const options& opt)
{
  jobrunner::redis::stream_job_config cfg;
  cfg.name = opt.redis_job;
  cfg.consumer = opt.consumer.empty() ? default_consumer() : opt.consumer;
  // A car pending this long belonged to a worker that died: take it over.
  const auto per_car =
      std::chrono::milliseconds(opt.timeout_ms) * static_cast<long>(opt.retries + 1);
  cfg.claim_idle = std::max<std::chrono::milliseconds>(std::chrono::seconds(5), per_car * 2);
  return cfg;
}

// --redis-role work: prices cars from the job's stream until it is complete.
int run_redis_worker(const options& opt, const car_price::url& url)
{
  namespace redis = jobrunner::redis;
  asio::io_context io(1);
  auto tls = make_tls(opt);
  car_price::client http(io.get_executor(), url, &tls);
  const auto [host, port] = car_price::parse_redis_address(opt.redis);
  const auto cfg = redis_job(opt);
  auto reader = redis::connection::connect(io.get_executor(), host, port);
  auto acker = redis::connection::connect(io.get_executor(), host, port);
  jobrunner::JobRunner<redis::stream_item<car>, car_price::quote> runner(
      io, [&http](redis::stream_item<car>& it) { return http.fetch(it.value); }, make_config(opt));
  runner.retry_if([](const auto& r) { return retryable(r); });
  redis::attach(runner, reader, acker, cfg, car_price::decode_car, [&opt](const auto& r) {
    const auto [status, error] = status_of(r, opt.timeout_ms);
    return car_price::encode_outcome(r.item.value, status, r.ok() ? &*r.value : nullptr, r.attempts,
                                     error);
  });
  int exit_status = 0;
  runner.on_job_complete([&](const jobrunner::JobSummary& s) {
    std::fprintf(
        stderr,
        "car_price_fetcher %s: %llu cars priced here: %llu ok, %llu failed, %llu timed "
        "out, %llu cancelled\n",
        cfg.consumer.c_str(), static_cast<unsigned long long>(s.submitted),
        static_cast<unsigned long long>(s.succeeded), static_cast<unsigned long long>(s.failed),
        static_cast<unsigned long long>(s.timed_out), static_cast<unsigned long long>(s.cancelled));
    if (s.producer_errors != 0)
    {
      std::fprintf(stderr, "car_price_fetcher %s: stopped: %s\n", cfg.consumer.c_str(),
                   describe(s.first_producer_error).c_str());
      exit_status = 1;
    }
    reader->close();
    acker->disconnect(); // once the last acknowledgements are answered
  });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (!ec)
      runner.cancel();
  });
  runner.async_run([&](boost::system::error_code, jobrunner::JobSummary) { signals.cancel(); });
  io.run();
  return exit_status;
}

// --redis-role submit: writes the cars to the job's stream, waits for every
// result, writes them out.
template <class Writer>
int run_redis_submitter(const options& opt, car_price::csv_reader& reader, std::istream& in,
                        std::size_t line_number, Writer& results)
{
  namespace redis = jobrunner::redis;
  std::vector<car> rows; // the valid rows, in input order
  std::vector<std::string> cars;
  std::size_t invalid = 0;
  std::string line;
  while (std::getline(in, line))
  {
    ++line_number;
    if (car_price::csv_reader::strip_cr(line).empty())
      continue;
    auto row = reader.row(line, line_number);
    if (auto* bad = std::get_if<car_price::bad_row>(&row))
    {
      ++invalid;
      std::fprintf(stderr, "car_price_fetcher: %s: line %zu skipped: %s\n", opt.input.c_str(),
                   bad->line, bad->error.c_str());
      results.invalid(*bad);
    }
    else
    {
      rows.push_back(std::get<car>(row));
      cars.push_back(car_price::encode_car(rows.back()));
    }
  }
  asio::io_context io(1);
  const auto [host, port] = car_price::parse_redis_address(opt.redis);
  const auto cfg = redis_job(opt);
  auto conn = redis::connection::connect(io.get_executor(), host, port);
  std::size_t ok = 0, not_ok = 0;
  int exit_status = 0;
  std::string stop_reason;
  // The cars whose result was written (encoded; a car may appear twice).
  std::unordered_map<std::string, std::size_t> written;
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await redis::submit(*conn, cfg, cars);
        std::fprintf(stderr, "car_price_fetcher: %zu cars submitted to job %s\n", cars.size(),
                     cfg.name.c_str());
        // Named, not built inside the co_await (g++ 12 destroys such
        // temporaries twice).
        std::function<void(const redis::job_progress&)> show = [&](const redis::job_progress& p) {
          if (opt.progress != "none")
            std::fprintf(stderr, "progress: %lld/%zu done\n", p.done, cars.size());
        };
        co_await redis::wait_for_results(*conn, cfg, std::chrono::seconds(1), std::move(show));
        // Every result, in the order they came in.
        std::string from = "-";
        for (;;)
        {
          auto range = redis::detail::args("XRANGE", cfg.results(), from, "+", "COUNT", "1000");
          auto page = co_await conn->async_command(std::move(range));
          if (page.elements.empty())
            break;
          for (const auto& entry : page.elements)
          {
            from = "(" + entry.elements[0].str;
            const auto& fields = entry.elements[1].elements;
            for (std::size_t f = 0; f + 1 < fields.size(); f += 2)
              if (fields[f].str == "result")
              {
                auto o = car_price::decode_outcome(fields[f + 1].str);
                (o.q ? ok : not_ok) += 1;
                ++written[car_price::encode_car(o.c)];
                results.priced(o.c, o.status.c_str(), o.q ? &*o.q : nullptr, o.attempts, o.error);
              }
          }
        }
        conn->close();
      },
      [&](std::exception_ptr e) {
        if (e)
        {
          stop_reason = describe(e);
          std::fprintf(stderr, "car_price_fetcher: stopped: %s\n", stop_reason.c_str());
          exit_status = 1;
          conn->close();
        }
      });
  io.run();
  if (exit_status != 0)
  {
    // One line per row even when stopped: the rows without a result here
    // are written `cancelled`, with the reason (the job may still go on in
    // Redis; this output does not have their prices).
    for (std::size_t i = 0; i < rows.size(); ++i)
    {
      auto it = written.find(cars[i]);
      if (it != written.end() && it->second > 0)
      {
        --it->second;
        continue;
      }
      ++not_ok;
      results.priced(rows[i], "cancelled", nullptr, 0, stop_reason);
    }
  }
  results.flush();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr,
               "car_price_fetcher: %zu rows: %zu priced, %zu not priced, %zu invalid; %.2f s, "
               "%.1f cars/s\n",
               cars.size() + invalid, ok, not_ok, invalid, secs,
               secs > 0 ? static_cast<double>(ok) / secs : 0.0);
  if (exit_status != 0)
    return exit_status;
  return not_ok + invalid != 0 ? 1 : 0;
}

std::size_t count_lines(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line))
    ++n;
  return n;
}

} // namespace

int main(int argc, char** argv)
{
  example_cli::program() = "car_price_fetcher";
  const options opt = parse_options(argc, argv);

  car_price::url url;
  try
  {
    url = car_price::parse_url(opt.url);
  }
  catch (const std::exception& e)
  {
    bad_option(e.what());
  }

  if (!opt.redis.empty() && opt.redis_role == "work")
  {
    try
    {
      return run_redis_worker(opt, url);
    }
    catch (const std::exception& e)
    {
      std::fprintf(stderr, "car_price_fetcher: %s\n", e.what());
      return 1;
    }
  }

  std::ifstream file_in;
  std::istream* in = &std::cin;
  std::size_t total_rows = 0; // 0: unknown (stdin)
  if (opt.input != "-")
  {
    file_in.open(opt.input, std::ios::binary);
    if (!file_in)
      bad_option("cannot open the input " + opt.input);
    in = &file_in;
    const auto lines = count_lines(opt.input);
    total_rows = lines > 0 ? lines - 1 : 0;
  }
  std::ofstream file_out;
  std::ostream* out = &std::cout;
  if (opt.output != "-")
  {
    file_out.open(opt.output, std::ios::binary | std::ios::trunc);
    if (!file_out)
      bad_option("cannot open the output " + opt.output);
    out = &file_out;
  }

  car_price::csv_reader reader;
  std::size_t line_number = 0;
  {
    std::string header;
    while (header.empty() && std::getline(*in, header))
    {
      ++line_number;
      header = std::string(car_price::csv_reader::strip_cr(header));
    }
    try
    {
      reader.header(header);
    }
    catch (const std::exception& e)
    {
      std::fprintf(stderr, "car_price_fetcher: %s: line %zu: %s\n", opt.input.c_str(), line_number,
                   e.what());
      return 2;
    }
  }

  if (!opt.redis.empty())
  {
    writer results(*out, opt.format == "jsonl");
    try
    {
      return run_redis_submitter(opt, reader, *in, line_number, results);
    }
    catch (const std::exception& e)
    {
      std::fprintf(stderr, "car_price_fetcher: %s\n", e.what());
      return 1;
    }
  }

  asio::io_context io(1);
  auto tls = make_tls(opt);
  car_price::client http(io.get_executor(), url, &tls);

  const jobrunner::JobConfig config = make_config(opt);

  using runner_type = jobrunner::JobRunner<car, car_price::quote>;
  runner_type runner(
      io, [&http](car& c) { return http.fetch(c); }, config);
  runner.retry_if([](const auto& r) { return retryable(r); });

  writer results(*out, opt.format == "jsonl");
  std::size_t invalid = 0;
  std::size_t rows_read = 0;
  std::size_t unsent = 0;
  bool stopped = false;
  bool input_done = false;

  // The producer: reads the CSV lazily; invalid rows go straight to the
  // output (they never reach the API).
  runner.add_producer([&](auto& submitter) -> asio::awaitable<void> {
    std::string line;
    while (std::getline(*in, line))
    {
      ++line_number;
      if (car_price::csv_reader::strip_cr(line).empty())
        continue;
      ++rows_read;
      auto row = reader.row(line, line_number);
      if (auto* bad = std::get_if<car_price::bad_row>(&row))
      {
        ++invalid;
        std::fprintf(stderr, "\ncar_price_fetcher: %s: line %zu skipped: %s\n", opt.input.c_str(),
                     bad->line, bad->error.c_str());
        results.invalid(*bad);
        continue;
      }
      car c = std::move(std::get<car>(row));
      if (!stopped && submitter.try_submit(c))
        continue;
      if (!stopped && !submitter.cancelled())
      {
        car copy = c; // submit takes the car; keep what the output needs
        try
        {
          co_await submitter.submit(std::move(c));
          continue;
        }
        catch (const boost::system::system_error&)
        {
          c = std::move(copy); // the job was stopped
        }
      }
      // Stopped (interrupt or failure budget): the rest of the input is
      // still read, and each row reported once, as not sent.
      stopped = true;
      ++unsent;
      results.priced(c, "cancelled", nullptr, 0, "not sent: the job was stopped");
    }
    input_done = true;
  });

  runner.on_task_complete([&](auto& r) {
    const auto [status, error] = status_of(r, opt.timeout_ms);
    results.priced(r.item, status, r.ok() ? &*r.value : nullptr, r.attempts, error);
  });

  // Progress on stderr: a bar redrawn in place on a terminal, else a line
  // every two seconds.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const std::string mode = opt.progress == "auto" ? (tty ? "bar" : "lines") : opt.progress;
  const auto started = std::chrono::steady_clock::now();
  asio::steady_timer ticker(io);
  bool finished = false;
  auto show = [&](bool last) {
    const auto s = runner.stats();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto done = s.done() + invalid + unsent;
    const double rate = secs > 0 ? static_cast<double>(s.done()) / secs : 0;
    const std::size_t total = total_rows != 0 ? total_rows : (input_done ? rows_read : 0);
    char eta[32] = "?";
    if (total != 0 && rate > 0 && total >= done)
      std::snprintf(eta, sizeof eta, "%.0fs", static_cast<double>(total - done) / rate);
    const auto failures = s.failed + s.timed_out;
    if (mode == "bar")
    {
      const int width = 30;
      const double frac = total != 0 ? static_cast<double>(done) / static_cast<double>(total) : 0;
      const int filled = static_cast<int>(frac * width + 0.5);
      std::fprintf(stderr, "\r[%.*s%*s] %llu/%s %3.0f%% %7.1f cars/s ETA %-6s failures %llu ",
                   filled, "==============================", width - filled, "",
                   static_cast<unsigned long long>(done),
                   total != 0 ? std::to_string(total).c_str() : "?", frac * 100, rate, eta,
                   static_cast<unsigned long long>(failures));
      if (last)
        std::fputc('\n', stderr);
    }
    else if (mode == "lines")
      std::fprintf(stderr, "progress: %llu/%s done, %.1f cars/s, ETA %s, failures %llu\n",
                   static_cast<unsigned long long>(done),
                   total != 0 ? std::to_string(total).c_str() : "?", rate, eta,
                   static_cast<unsigned long long>(failures));
  };
  std::function<void()> tick = [&] {
    ticker.expires_after(mode == "bar" ? 200ms : 2s);
    ticker.async_wait([&](boost::system::error_code ec) {
      if (ec || finished)
        return;
      show(false);
      tick();
    });
  };
  if (mode != "none")
    tick();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool interrupted = false;
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec)
      return;
    interrupted = true;
    runner.cancel();
  });

  jobrunner::JobSummary summary;
  runner.async_run([&](boost::system::error_code, jobrunner::JobSummary s) {
    summary = std::move(s);
    finished = true;
    ticker.cancel();
    signals.cancel();
  });
  io.run();
  results.flush();
  if (mode != "none")
    show(true);

  auto ms = [](std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; };
  std::fprintf(stderr,
               "car_price_fetcher: %llu rows: %llu priced, %llu failed, %llu timed out, "
               "%llu cancelled, %zu invalid\n"
               "  %.2f s, %.1f cars/s, latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
               "%llu retries, paused %.1f s by the server, %zu connections\n",
               static_cast<unsigned long long>(summary.submitted + invalid + unsent),
               static_cast<unsigned long long>(summary.succeeded),
               static_cast<unsigned long long>(summary.failed),
               static_cast<unsigned long long>(summary.timed_out),
               static_cast<unsigned long long>(summary.cancelled + unsent), invalid,
               ms(summary.elapsed) / 1e3, summary.items_per_second, ms(summary.latency.p50),
               ms(summary.latency.p99), ms(summary.latency.max),
               static_cast<unsigned long long>(summary.retried), ms(summary.paused) / 1e3,
               http.connections_made());
  if (summary.producer_errors != 0)
    std::fprintf(stderr, "car_price_fetcher: reading the input failed: %s\n",
                 describe(summary.first_producer_error).c_str());
  if (summary.status == jobrunner::job_status::aborted)
  {
    std::fprintf(stderr, "car_price_fetcher: stopped: the failure budget was exceeded\n");
    return 3;
  }
  if (interrupted)
    return 130;
  if (summary.failed + summary.timed_out + summary.cancelled + invalid + unsent != 0
      || summary.producer_errors != 0)
    return 1;
  return 0;
}
