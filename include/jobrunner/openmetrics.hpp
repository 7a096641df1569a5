// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_OPENMETRICS_HPP
#define JOBRUNNER_OPENMETRICS_HPP

// A job's statistics in the OpenMetrics text format (issue 13 item 6), with
// no dependency: a JobSummary (the job's end) or a JobStats (live).

#include <jobrunner/job_summary.hpp>
#include <jobrunner/task_result.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace jobrunner {

/// How `to_openmetrics` names the metrics.
/**
 * - `prefix`: every metric family's name starts with it and `_` (default
 *   `jobrunner`); `[a-zA-Z_:][a-zA-Z0-9_:]*`.
 * - `labels`: added to every sample, e.g. `{{"job", "cars"}}`; names
 *   `[a-zA-Z_][a-zA-Z0-9_]*`, values any UTF-8 text (escaped).
 */
struct OpenMetricsOptions
{
  std::string prefix = "jobrunner"; ///< the start of every metric family's name
  std::vector<std::pair<std::string, std::string>> labels; ///< added to every sample
};

namespace detail::openmetrics {

inline bool valid_name(std::string_view s, bool colon) noexcept
{
  if (s.empty())
    return false;
  for (std::size_t i = 0; i < s.size(); ++i)
  {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
                    || (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

class writer
{
public:
  explicit writer(const OpenMetricsOptions& o) : prefix_(o.prefix + "_")
  {
    if (!valid_name(o.prefix, true))
      throw std::invalid_argument("jobrunner: invalid OpenMetrics prefix: " + o.prefix);
    for (const auto& [name, value] : o.labels)
    {
      if (!valid_name(name, false) || name.rfind("__", 0) == 0)
        throw std::invalid_argument("jobrunner: invalid OpenMetrics label name: " + name);
      add_label(labels_, name, value);
    }
  }

  // One family: # TYPE, # UNIT (when `unit` is set: the name ends with it),
  // # HELP.
  void family(std::string_view name, std::string_view type, std::string_view help,
              std::string_view unit = {})
  {
    out_ += "# TYPE ";
    out_ += prefix_;
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
    if (!unit.empty())
    {
      out_ += "# UNIT ";
      out_ += prefix_;
      out_ += name;
      out_ += ' ';
      out_ += unit;
      out_ += '\n';
    }
    out_ += "# HELP ";
    out_ += prefix_;
    out_ += name;
    out_ += ' ';
    out_ += help; // ours: no backslash, no line break
    out_ += '\n';
  }

  // One sample; `suffix` e.g. "_total"; `label` an extra name="value".
  template <class Number>
  void sample(std::string_view name, std::string_view suffix, Number value,
              std::string_view label = {}, std::string_view label_value = {})
  {
    out_ += prefix_;
    out_ += name;
    out_ += suffix;
    std::string labels = labels_;
    if (!label.empty())
      add_label(labels, label, label_value);
    if (!labels.empty())
    {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out_ += std::string_view(buf, static_cast<std::size_t>(r.ptr - buf));
    out_ += '\n';
  }

  std::string finish()
  {
    out_ += "# EOF\n";
    return std::move(out_);
  }

private:
  static void add_label(std::string& to, std::string_view name, std::string_view value)
  {
    if (!to.empty())
      to += ',';
    to += name;
    to += "=\"";
    for (const char c : value)
    {
      if (c == '\\')
        to += "\\\\";
      else if (c == '"')
        to += "\\\"";
      else if (c == '\n')
        to += "\\n";
      else
        to += c;
    }
    to += '"';
  }

  std::string prefix_;
  std::string labels_;
  std::string out_;
};

inline double seconds(std::chrono::nanoseconds d) noexcept
{
  return std::chrono::duration<double>(d).count();
}

// The results by status: one counter family, a `status` label.
template <class Counts>
void results(writer& w, const Counts& c)
{
  w.family("results", "counter", "Items with a final result, by status.");
  const std::pair<task_status, std::uint64_t> by_status[] = {
      {task_status::succeeded, c.succeeded},
      {task_status::failed, c.failed},
      {task_status::cancelled, c.cancelled},
      {task_status::timed_out, c.timed_out},
      {task_status::unavailable, c.unavailable},
      {task_status::expired, c.expired}, // deadlines (issue 14)
      {task_status::expired_in_queue, c.expired_in_queue}};
  for (const auto& [status, n] : by_status)
    w.sample("results", "_total", n, "status", to_string(status));
}

} // namespace detail::openmetrics

/// A finished job's summary in the OpenMetrics text format, ending with `# EOF`.
/**
 * Families (with the default prefix): `jobrunner_items_submitted`,
 * `jobrunner_results` (label `status`), `jobrunner_retries`,
 * `jobrunner_retries_refused`, `jobrunner_breaker_opened`,
 * `jobrunner_producer_errors`, `jobrunner_callback_errors` (counters,
 * samples `..._total`); `jobrunner_paused_seconds` (counter);
 * `jobrunner_elapsed_seconds`, `jobrunner_task_duration_seconds` (label
 * `quantile`: 0.5, 0.9, 0.99, 1 for the maximum), `jobrunner_max_queue_depth`
 * (gauges); `jobrunner_job_status` (a stateset: 1 for the job's status).
 *
 * *Errors*: `std::invalid_argument` for an invalid prefix or label name.
 *
 * *Example*: the node-exporter textfile convention (write, then rename):
 * ```
 * std::ofstream("metrics.prom.tmp") << jobrunner::to_openmetrics(summary, {"jobrunner", {{"job",
 * "cars"}}}); std::rename("metrics.prom.tmp", "metrics.prom");
 * ```
 */
inline std::string to_openmetrics(const JobSummary& s, const OpenMetricsOptions& options = {})
{
  using namespace detail::openmetrics;
  writer w(options);
  w.family("items_submitted", "counter", "Items the producers submitted.");
  w.sample("items_submitted", "_total", s.submitted);
  results(w, s);
  w.family("retries", "counter", "Extra runs of items (retries and push-backs).");
  w.sample("retries", "_total", s.retried);
  w.family("retries_refused", "counter", "Retries the retry budget refused.");
  w.sample("retries_refused", "_total", s.retries_refused);
  w.family("breaker_opened", "counter", "Times the circuit breaker opened.");
  w.sample("breaker_opened", "_total", s.breaker_opened);
  w.family("producer_errors", "counter", "Producers that ended with an exception.");
  w.sample("producer_errors", "_total", s.producer_errors);
  w.family("callback_errors", "counter", "Task-complete callbacks that threw.");
  w.sample("callback_errors", "_total", s.callback_errors);
  w.family("paused_seconds", "counter", "Time dispatch was paused by server push-back.", "seconds");
  w.sample("paused_seconds", "_total", seconds(s.paused));
  w.family("elapsed_seconds", "gauge", "The job's duration.", "seconds");
  w.sample("elapsed_seconds", "", seconds(s.elapsed));
  if (s.latency.count != 0) // none measured (JobConfig::measure_durations off, or no task ran)
  {
    w.family("task_duration_seconds", "gauge",
             "Task durations: quantiles over the tasks that ran, 1 is the maximum.", "seconds");
    w.sample("task_duration_seconds", "", seconds(s.latency.p50), "quantile", "0.5");
    w.sample("task_duration_seconds", "", seconds(s.latency.p90), "quantile", "0.9");
    w.sample("task_duration_seconds", "", seconds(s.latency.p99), "quantile", "0.99");
    w.sample("task_duration_seconds", "", seconds(s.latency.max), "quantile", "1");
  }
  w.family("max_queue_depth", "gauge", "The most items seen waiting in the work queue.");
  w.sample("max_queue_depth", "", static_cast<std::uint64_t>(s.max_queue_depth));
  w.family("job_status", "stateset", "How the job ended.");
  const std::string state = options.prefix + "_job_status"; // a stateset's label: its name
  for (const auto st : {job_status::completed, job_status::cancelled, job_status::aborted,
                        job_status::failed, job_status::drained, job_status::unavailable})
    w.sample("job_status", "", std::uint64_t{st == s.status ? 1u : 0u}, state, to_string(st));
  return w.finish();
}

/// A running job's counters (`JobRunner::stats()`) in the OpenMetrics text format.
/**
 * Families: `jobrunner_items_submitted`, `jobrunner_results` (label
 * `status`) (counters); `jobrunner_items_queued`, `jobrunner_items_in_flight`,
 * `jobrunner_concurrency_limit` (gauges). Same options and errors as above.
 */
inline std::string to_openmetrics(const JobStats& s, const OpenMetricsOptions& options = {})
{
  using namespace detail::openmetrics;
  writer w(options);
  w.family("items_submitted", "counter", "Items the producers submitted.");
  w.sample("items_submitted", "_total", s.submitted);
  results(w, s);
  w.family("items_queued", "gauge", "Items submitted and not yet taken by a worker.");
  w.sample("items_queued", "", s.queued);
  w.family("items_in_flight", "gauge", "Items taken by a worker, result not yet handled.");
  w.sample("items_in_flight", "", s.in_flight);
  w.family("concurrency_limit", "gauge", "Workers allowed to take items now.");
  w.sample("concurrency_limit", "", static_cast<std::uint64_t>(s.concurrency_limit));
  return w.finish();
}

} // namespace jobrunner

#endif
