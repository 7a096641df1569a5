// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_REDIS_STREAM_JOB_HPP
#define JOBRUNNER_REDIS_STREAM_JOB_HPP

// One job shared by several runners (processes, hosts) through Redis
// Streams with a consumer group:
// - each runner's producer reads items with XREADGROUP (blocking, with the
//   work queue's backpressure: it reads a batch only once the last one was
//   submitted) and reclaims items another consumer left pending for longer
//   than `claim_idle` with XAUTOCLAIM (a runner that died);
// - when an item's result has been handled, one Lua script acknowledges it
//   (XACK) and, only if that acknowledgement was the first, appends the
//   result to the result stream and counts it: an item processed twice
//   (reclaimed from a slow, not dead, runner) still has one result;
// - the job's total is set by the submitter (`submit`); a runner's input
//   ends when the count of results reaches it.
// At-least-once processing, exactly one result per item.

#include <jobrunner/job_runner.hpp>
#include <jobrunner/redis/connection.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jobrunner::redis {

/// The keys of one distributed job and how a runner takes part in it.
struct stream_job_config
{
  std::string name = "jobrunner";              ///< prefix of every key
  std::string consumer;                        ///< this runner's name in the group (unique)
  std::size_t batch = 100;                     ///< entries per XREADGROUP / XAUTOCLAIM
  std::chrono::milliseconds block{200};        ///< how long XREADGROUP blocks
  std::chrono::milliseconds claim_idle{10000}; ///< reclaim items pending this long
  /// Acknowledgements waiting for Redis's answer at most: beyond, the
  /// producer reads no more items (a slow Redis slows the runner down
  /// instead of filling memory).
  std::size_t max_unacked = 1000;

  std::string items() const { return name + ":items"; }
  std::string results() const { return name + ":results"; }
  std::string done() const { return name + ":done"; }
  std::string total() const { return name + ":total"; }
  std::string group() const { return name; }
};

/// What a runner's function receives: the stream entry's id and its value.
template <class T>
struct stream_item
{
  std::string id;
  T value;
};

namespace detail {

inline const char* ack_script = R"(
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XADD', KEYS[2], '*', 'item', ARGV[2], 'status', ARGV[3], 'result', ARGV[4])
  redis.call('INCR', KEYS[3])
  return 1
end
return 0)";

// A command's arguments. (Not a braced list inside a coroutine: g++ 12
// rejects some std::initializer_list of string literals there.)
template <class... Args>
std::vector<std::string> args(const Args&... a)
{
  return std::vector<std::string>{std::string(a)...};
}

inline long long to_integer(const reply& r)
{
  if (r.type == reply::kind::integer)
    return r.integer;
  if (r.type == reply::kind::string)
    return std::stoll(r.str);
  return -1;
}

} // namespace detail

/// Writes `values` to the job's item stream and sets its total: the
/// submitter's side. Items are added with XADD (field `data`), pipelined in
/// batches of 1,000 (the last of each batch awaited, so the commands queued
/// in the client stay bounded). The total is set only once every XADD was
/// answered with an id: if any was refused (out of memory, a wrong type) or
/// the connection was lost, `submit` throws `redis::error` and sets no
/// total, so no runner takes a partial job for a whole one.
inline asio::awaitable<void> submit(connection& conn, const stream_job_config& cfg,
                                    const std::vector<std::string>& values)
{
  auto cmd1 = detail::args("DEL", cfg.items(), cfg.results(), cfg.done(), cfg.total());
  co_await conn.async_command(std::move(cmd1));
  auto cmd2 = detail::args("XGROUP", "CREATE", cfg.items(), cfg.group(), "0", "MKSTREAM");
  co_await conn.async_command(std::move(cmd2));
  struct refusals
  {
    std::size_t count = 0;
    std::string first;
  };
  auto refused = std::make_shared<refusals>();
  const auto note = [refused](std::string why) {
    if (refused->count++ == 0)
      refused->first = std::move(why);
  };
  constexpr std::size_t batch = 1000;
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    auto cmd = detail::args("XADD", cfg.items(), "*", "data", values[i]);
    if ((i + 1) % batch != 0 && i + 1 != values.size())
    {
      conn.command(cmd, [note](const reply* r, const std::string& err) {
        if (r == nullptr)
          note(err);
        else if (r->is_error())
          note("redis: " + r->str);
      });
      continue;
    }
    // Replies come in order: once this one is in, so are the batch's.
    try
    {
      co_await conn.async_command(std::move(cmd));
    }
    catch (const error& e)
    {
      note(e.what());
    }
    if (!conn.connected())
    {
      // Every later command would fail the same way: count them unsent.
      const auto unsent = values.size() - (i + 1);
      if (unsent != 0)
      {
        note("redis: not connected: " + conn.last_error()); // counts one
        refused->count += unsent - 1;
      }
      break;
    }
  }
  if (refused->count != 0)
    throw error("redis: " + std::to_string(refused->count) + " of " + std::to_string(values.size())
                + " items were not added (" + refused->first + "); the job has no total");
  auto cmd3 = detail::args("SET", cfg.total(), std::to_string(values.size()));
  co_await conn.async_command(std::move(cmd3));
}

/// How far the job is: results in, and the total (-1 until it is set).
struct job_progress
{
  long long done = 0;
  long long total = -1;
  bool complete() const noexcept { return total >= 0 && done >= total; }
};

inline asio::awaitable<job_progress> read_progress(connection& conn, const stream_job_config& cfg)
{
  job_progress p;
  auto get_total = detail::args("GET", cfg.total());
  auto total = co_await conn.async_command(std::move(get_total));
  auto get_done = detail::args("GET", cfg.done());
  auto done = co_await conn.async_command(std::move(get_done));
  if (!total.is_nil())
    p.total = detail::to_integer(total);
  if (!done.is_nil())
    p.done = detail::to_integer(done);
  co_return p;
}

/// Waits until every item of the job has a result, reading the count every
/// `poll` and passing it to `on_poll` (if set): the submitter's
/// job-complete.
inline asio::awaitable<void> wait_for_results(connection& conn, const stream_job_config& cfg,
                                              std::chrono::milliseconds poll,
                                              std::function<void(const job_progress&)> on_poll = {})
{
  for (;;)
  {
    const auto p = co_await read_progress(conn, cfg);
    if (on_poll)
      on_poll(p);
    if (p.complete())
      co_return;
    asio::steady_timer t(co_await asio::this_coro::executor, poll);
    co_await t.async_wait(asio::use_awaitable);
  }
}

/// Makes `runner` take part in the job: adds the stream producer and the
/// task-complete callback that acknowledges each item with its result.
/// `decode(std::string) -> T`; `encode(const TaskResult&) -> std::string`
/// (the result field, for any status). `reader` blocks in XREADGROUP, so it
/// must not be `acker`. The caller closes both when the job ends (`close()`
/// the reader, `disconnect()` the acker so that the last acknowledgements
/// are answered). The task-complete callback is the acknowledgement: do not
/// replace it afterwards, or items are never acknowledged.
template <class T, class Result, class Decode, class Encode>
void attach(JobRunner<stream_item<T>, Result>& runner, std::shared_ptr<connection> reader,
            std::shared_ptr<connection> acker, stream_job_config cfg, Decode decode, Encode encode)
{
  // Acknowledgements sent, not yet answered (one executor: a plain count).
  auto unacked = std::make_shared<std::size_t>(0);
  runner.add_producer([reader, cfg, decode, unacked](auto& out) -> asio::awaitable<void> {
    // The group may exist already (BUSYGROUP): fine.
    reader->command(detail::args("XGROUP", "CREATE", cfg.items(), cfg.group(), "0", "MKSTREAM"),
                    [](const reply*, const std::string&) {});
    std::string cursor = "0-0";
    auto last_claim = std::chrono::steady_clock::now() - cfg.claim_idle;
    auto submit_entries = [&](const reply& entries) -> asio::awaitable<void> {
      for (const auto& e : entries.elements)
      {
        if (e.elements.size() < 2)
          continue; // deleted meanwhile
        const auto& fields = e.elements[1].elements;
        for (std::size_t f = 0; f + 1 < fields.size(); f += 2)
          if (fields[f].str == "data")
          {
            stream_item<T> item{e.elements[0].str, decode(fields[f + 1].str)};
            co_await out.submit(std::move(item));
          }
      }
    };
    for (;;)
    {
      while (*unacked > cfg.max_unacked)
      {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(5));
        co_await t.async_wait(asio::use_awaitable);
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_claim >= cfg.claim_idle / 2)
      {
        last_claim = now;
        auto claim = detail::args("XAUTOCLAIM", cfg.items(), cfg.group(), cfg.consumer,
                                  std::to_string(cfg.claim_idle.count()), cursor, "COUNT",
                                  std::to_string(cfg.batch));
        auto claimed = co_await reader->async_command(std::move(claim));
        if (claimed.elements.size() >= 2)
        {
          cursor = claimed.elements[0].str;
          co_await submit_entries(claimed.elements[1]);
        }
      }
      auto next = detail::args("XREADGROUP", "GROUP", cfg.group(), cfg.consumer, "COUNT",
                               std::to_string(cfg.batch), "BLOCK",
                               std::to_string(cfg.block.count()), "STREAMS", cfg.items(), ">");
      auto read = co_await reader->async_command(std::move(next));
      if (!read.is_nil())
      {
        for (const auto& stream : read.elements)
          if (stream.elements.size() >= 2)
            co_await submit_entries(stream.elements[1]);
        continue;
      }
      // Nothing new: is the whole job done?
      const auto p = co_await read_progress(*reader, cfg);
      if (p.complete())
        co_return;
    }
  });

  runner.on_task_complete([acker, cfg, encode, unacked](auto& r) {
    const char* status = r.ok() ? "ok" : "failed";
    ++*unacked;
    acker->command({"EVAL", detail::ack_script, "3", cfg.items(), cfg.results(), cfg.done(),
                    cfg.group(), r.item.id, status, encode(r)},
                   [unacked](const reply*, const std::string&) { --*unacked; });
  });
}

} // namespace jobrunner::redis

#endif
