// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
// Issue 13 item 6: the event hook, to_string / operator<< of the status
// enumerations, and the OpenMetrics text of a job's statistics.
#include <jobrunner/jobrunner.hpp>

#include "job_outcome.hpp"
#include "test_support.hpp"

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using jobrunner::event;
using jobrunner::event_kind;
using jobrunner::job_status;
using jobrunner::JobConfig;
using jobrunner::JobRunner;
using jobrunner::task_status;
using jobrunner::test::sleep_for;

namespace {

// Every enumerator from 0 to `count - 1` has its own name, operator<<
// writes it, and the value after the last is "unknown" (so an enumerator
// added without a name, or without updating `count` here, fails).
template <class Enum>
void check_names(int count)
{
  std::set<std::string> names;
  for (int i = 0; i < count; ++i)
  {
    const auto e = static_cast<Enum>(i);
    const std::string name(to_string(e));
    CAPTURE(i, name);
    CHECK(name != "unknown");
    CHECK_FALSE(name.empty());
    CHECK(names.insert(name).second);
    std::ostringstream os;
    os << e;
    CHECK(os.str() == name);
  }
  CHECK(to_string(static_cast<Enum>(count)) == "unknown");
}

std::vector<std::string> lines_of(const std::string& text)
{
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// The OpenMetrics text rules this library relies on: each family has TYPE
// and HELP before its samples, counter samples end in _total, the text
// ends with "# EOF" and a line break. Returns the samples, name -> value.
std::map<std::string, std::string> check_openmetrics(const std::string& text,
                                                     const std::string& prefix)
{
  REQUIRE(text.size() >= 6);
  CHECK(text.substr(text.size() - 6) == "# EOF\n");
  const auto lines = lines_of(text);
  std::map<std::string, std::string> types; // family -> type
  std::set<std::string> helped;
  std::map<std::string, std::string> samples;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i)
  {
    const auto& line = lines[i];
    CAPTURE(line);
    CHECK(line != "# EOF");
    if (line.rfind("# TYPE ", 0) == 0 || line.rfind("# HELP ", 0) == 0
        || line.rfind("# UNIT ", 0) == 0)
    {
      std::istringstream in(line.substr(7));
      std::string family, rest;
      in >> family >> rest;
      CHECK(family.rfind(prefix + "_", 0) == 0);
      if (line[2] == 'T')
        types[family] = rest;
      else if (line[2] == 'H')
        helped.insert(family);
      else
        CHECK(family.size() > rest.size()); // a unit is the name's suffix
      continue;
    }
    const auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    const std::string name = line.substr(0, space);
    const std::string metric = name.substr(0, name.find('{'));
    // The family this sample belongs to: declared before it.
    std::string family = metric;
    if (types.count(family) == 0 && metric.size() > 6
        && metric.substr(metric.size() - 6) == "_total")
      family = metric.substr(0, metric.size() - 6);
    REQUIRE(types.count(family) == 1);
    CHECK(helped.count(family) == 1);
    if (types[family] == "counter")
      CHECK(metric == family + "_total");
    CHECK(samples.emplace(name, line.substr(space + 1)).second); // no duplicate sample
  }
  return samples;
}

} // namespace

TEST_CASE("to_string and operator<< name every task_status, job_status and event_kind",
          "[events][names]")
{
  check_names<task_status>(7);
  check_names<job_status>(6);
  check_names<event_kind>(11);
  CHECK(to_string(task_status::timed_out) == "timed_out");
  CHECK(to_string(job_status::drained) == "drained");
}

TEST_CASE("the event hook reports retries, push-back pauses and the drain", "[events]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 1;
  config.retry.max_attempts = 2;
  config.retry.initial_backoff = 2ms;
  config.retry.max_backoff = 2ms;
  std::map<int, int> runs;
  JobRunner<int, int>* self = nullptr;
  JobRunner<int, int> runner(
      io,
      [&](int x) -> asio::awaitable<int> {
        co_await sleep_for(0ms);
        const int n = runs[x]++;
        if (x == 1 && n == 0)
          throw std::runtime_error("flaky"); // one retry
        if (x == 2 && n == 0)
          throw jobrunner::retry_after(5ms); // one pause
        if (x == 3)
          self->drain();
        co_return x;
      },
      config);
  self = &runner;
  std::vector<event> events;
  std::map<int, std::uint64_t> sequence;
  runner.on_event([&](const event& e) { events.push_back(e); });
  runner.add_range(jobrunner::test::iota(0, 100)).on_task_complete([&](auto& r) {
    sequence[r.item] = r.sequence;
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto s = runner.run();
  CHECK(s.status == job_status::drained);

  std::map<event_kind, std::vector<event>> by_kind;
  for (const auto& e : events)
  {
    CHECK(e.time >= t0);
    by_kind[e.kind].push_back(e);
  }
  REQUIRE(by_kind[event_kind::retry_scheduled].size() == 1);
  CHECK(by_kind[event_kind::retry_scheduled][0].sequence == sequence[1]);
  CHECK(by_kind[event_kind::retry_scheduled][0].value >= 0);
  CHECK(by_kind[event_kind::retry_scheduled][0].value <= 2'000'000);
  REQUIRE(by_kind[event_kind::pause_started].size() == 1);
  CHECK(by_kind[event_kind::pause_started][0].sequence == sequence[2]);
  CHECK(by_kind[event_kind::pause_started][0].value == 5'000'000);
  REQUIRE(by_kind[event_kind::pause_ended].size() == 1);
  CHECK(by_kind[event_kind::pause_ended][0].time - by_kind[event_kind::pause_started][0].time
        >= 5ms);
  REQUIRE(by_kind[event_kind::draining].size() == 1);
  CHECK(by_kind[event_kind::draining][0].value == -1);
  CHECK(by_kind[event_kind::drain_grace_expired].empty());
  CHECK(s.event_errors == 0);
}

TEST_CASE("the event hook reports adaptive limit changes and fail-fast, a throwing hook is counted",
          "[events]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 4;
  config.adaptive_concurrency.enabled = true;
  config.adaptive_concurrency.initial_workers = 1;
  config.fail_fast = true;
  JobRunner<int, int> runner(
      io,
      [](int x) -> asio::awaitable<int> {
        co_await sleep_for(0ms);
        if (x == 30)
          throw std::runtime_error("stop");
        co_return x;
      },
      config);
  std::vector<event> events;
  runner.on_event([&](const event& e) {
    events.push_back(e);
    throw std::logic_error("a hook that throws");
  });
  runner.add_range(jobrunner::test::iota(0, 100));
  jobrunner::test::outcome out;
  jobrunner::test::start(runner, out);
  REQUIRE(jobrunner::test::run_to_completion(io));
  CHECK(out.summary.status == job_status::failed);
  std::size_t limits = 0, fail_fasts = 0;
  std::int64_t last_limit = 1;
  for (const auto& e : events)
    if (e.kind == event_kind::limit_changed)
    {
      ++limits;
      CHECK(e.value == last_limit + 1); // grows one at a time from 1
      last_limit = e.value;
    }
    else if (e.kind == event_kind::fail_fast)
      ++fail_fasts;
  CHECK(limits >= 1);
  CHECK(fail_fasts == 1);
  CHECK(out.summary.event_errors == events.size());
}

TEST_CASE("to_openmetrics: a summary's text follows the OpenMetrics rules and holds its counts",
          "[events][openmetrics]")
{
  asio::io_context io;
  JobRunner<int, int> runner(io, [](int x) -> int {
    if (x % 10 == 0)
      throw std::runtime_error("bad");
    return x;
  });
  runner.add_range(jobrunner::test::iota(0, 50));
  auto s = runner.run();
  jobrunner::OpenMetricsOptions options;
  options.prefix = "cars";
  options.labels = {{"job", "a \"quoted\\ name\nhere"}};
  const auto text = jobrunner::to_openmetrics(s, options);
  CAPTURE(text);
  const auto samples = check_openmetrics(text, "cars");
  const std::string job = "job=\"a \\\"quoted\\\\ name\\nhere\"";
  CHECK(samples.at("cars_items_submitted_total{" + job + "}") == "50");
  CHECK(samples.at("cars_results_total{" + job + ",status=\"succeeded\"}") == "45");
  CHECK(samples.at("cars_results_total{" + job + ",status=\"failed\"}") == "5");
  CHECK(samples.at("cars_results_total{" + job + ",status=\"timed_out\"}") == "0");
  CHECK(samples.at("cars_job_status{" + job + ",cars_job_status=\"completed\"}") == "1");
  CHECK(samples.at("cars_job_status{" + job + ",cars_job_status=\"drained\"}") == "0");
  CHECK(text.find("# UNIT cars_elapsed_seconds seconds\n") != std::string::npos);
  CHECK(text.find("# TYPE cars_results counter\n") != std::string::npos);
  CHECK(samples.count("cars_task_duration_seconds{" + job + ",quantile=\"1\"}") == 1);

  const auto live = jobrunner::to_openmetrics(runner.stats());
  const auto live_samples = check_openmetrics(live, "jobrunner");
  CHECK(live_samples.at("jobrunner_items_submitted_total") == "50");
  CHECK(live_samples.at("jobrunner_items_in_flight") == "0");

  jobrunner::OpenMetricsOptions bad;
  bad.prefix = "9lives";
  CHECK_THROWS_AS(jobrunner::to_openmetrics(s, bad), std::invalid_argument);
  bad.prefix = "ok";
  bad.labels = {{"bad-name", "x"}};
  CHECK_THROWS_AS(jobrunner::to_openmetrics(s, bad), std::invalid_argument);
}

TEST_CASE("to_openmetrics: no task durations when none were measured", "[events][openmetrics]")
{
  asio::io_context io;
  JobConfig config;
  config.measure_durations = false;
  JobRunner<int, int> runner(
      io, [](int x) -> int { return x; }, config);
  runner.add_range(jobrunner::test::iota(0, 5));
  const auto s = runner.run();
  REQUIRE(s.succeeded == 5);
  const auto text = jobrunner::to_openmetrics(s);
  check_openmetrics(text, "jobrunner");
  CHECK(text.find("task_duration_seconds") == std::string::npos); // not quantiles of 0 s
  CHECK(text.find("jobrunner_elapsed_seconds") != std::string::npos);
}

// Every status has its sample: the results of an unavailable job (the circuit
// breaker gave up) add up to what was submitted, and its state reads 1.
TEST_CASE("to_openmetrics: an unavailable job's results and state, the breaker and budget counters",
          "[events][openmetrics]")
{
  jobrunner::JobSummary s;
  s.status = jobrunner::job_status::unavailable;
  s.submitted = 7;
  s.succeeded = 2;
  s.unavailable = 5;
  s.breaker_opened = 3;
  s.retries_refused = 4;
  const auto text = jobrunner::to_openmetrics(s);
  CAPTURE(text);
  const auto samples = check_openmetrics(text, "jobrunner");
  CHECK(samples.at("jobrunner_results_total{status=\"unavailable\"}") == "5");
  CHECK(samples.at("jobrunner_job_status{jobrunner_job_status=\"unavailable\"}") == "1");
  CHECK(samples.at("jobrunner_job_status{jobrunner_job_status=\"completed\"}") == "0");
  CHECK(samples.at("jobrunner_breaker_opened_total") == "3");
  CHECK(samples.at("jobrunner_retries_refused_total") == "4");
}

// The deadlines' statuses have samples of their own (issue 14).
TEST_CASE("to_openmetrics: the expired and expired_in_queue results", "[events][openmetrics]")
{
  jobrunner::JobSummary s;
  s.submitted = 9;
  s.succeeded = 1;
  s.expired = 3;
  s.expired_in_queue = 5;
  const auto text = jobrunner::to_openmetrics(s);
  CAPTURE(text);
  const auto samples = check_openmetrics(text, "jobrunner");
  CHECK(samples.at("jobrunner_results_total{status=\"expired\"}") == "3");
  CHECK(samples.at("jobrunner_results_total{status=\"expired_in_queue\"}") == "5");
}

// The circuit breaker's states as events: opened (value: times opened so
// far), half-open when its probes may go, closed when one succeeds; in that
// order, and as many openings as the summary counts.
TEST_CASE("the event hook reports the circuit breaker opening, probing and closing",
          "[events][breaker]")
{
  asio::io_context io;
  JobConfig config;
  config.workers = 2;
  config.circuit_breaker.enabled = true;
  config.circuit_breaker.failure_rate = 0;
  config.circuit_breaker.consecutive_failures = 2;
  config.circuit_breaker.open_time = 1ms;
  config.circuit_breaker.max_open_time = 4ms;
  int calls = 0;
  JobRunner<int, int> runner(
      io,
      [&calls](int x) -> asio::awaitable<int> {
        co_await sleep_for(0ms);
        if (++calls <= 6) // the service is down for its first six calls
          throw std::runtime_error("down");
        co_return x;
      },
      config);
  std::vector<event> events;
  runner.on_event([&](const event& e) { events.push_back(e); });
  runner.add_range(jobrunner::test::iota(0, 40));
  jobrunner::test::outcome out;
  jobrunner::test::start(runner, out);
  REQUIRE(jobrunner::test::run_to_completion(io));
  CHECK(out.summary.status == job_status::completed);
  std::vector<event_kind> breaker;
  std::int64_t openings = 0;
  for (const auto& e : events)
  {
    if (e.kind == event_kind::breaker_opened)
    {
      ++openings;
      CHECK(e.value == openings);
    }
    if (e.kind == event_kind::breaker_opened || e.kind == event_kind::breaker_half_open
        || e.kind == event_kind::breaker_closed)
      breaker.push_back(e.kind);
  }
  CAPTURE(breaker);
  REQUIRE(breaker.size() >= 3);
  CHECK(breaker.front() == event_kind::breaker_opened);
  CHECK(breaker.back() == event_kind::breaker_closed);
  for (std::size_t i = 1; i < breaker.size(); ++i) // opened -> half-open -> opened or closed
    if (breaker[i] == event_kind::breaker_half_open)
      CHECK(breaker[i - 1] == event_kind::breaker_opened);
    else
      CHECK(breaker[i - 1] == event_kind::breaker_half_open);
  CHECK(static_cast<std::uint64_t>(openings) == out.summary.breaker_opened);
}
