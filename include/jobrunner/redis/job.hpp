// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_REDIS_JOB_HPP
#define JOBRUNNER_REDIS_JOB_HPP

// A distributed job's identity and lifecycle in Redis, and the submitter's
// side (submit, wait, cancel, status). The workers' side is in
// stream_job.hpp.
//
// Every job under a name gets a new id (a counter): its keys are
// `{name}:ID:items` (the stream of items, consumer group `workers`),
// `{name}:ID:results` (one entry per item), `{name}:ID:dead` (items that
// were delivered too often: dead letters) and `{name}:ID:meta` (a hash:
// state, total, done, dead, ttl). `{name}:current` holds the latest id. The
// `{name}` hash tag puts all of a name's keys in one Redis Cluster slot.
// States: submitting -> running -> done, or cancelled at any point. A name
// has at most one live (submitting or running) job: a second submit is
// refused. Finished jobs' keys expire after `ttl`.

#include <jobrunner/redis/connection.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jobrunner::redis {

/// How a job is named in Redis and how a runner takes part in it.
struct stream_job_config
{
  std::string name = "jobrunner";              ///< the job's name: `{name}` prefixes every key
  std::string consumer;                        ///< this runner's name in the group (unique)
  std::size_t batch = 100;                     ///< entries per XREADGROUP / XAUTOCLAIM
  std::chrono::milliseconds block{200};        ///< how long XREADGROUP blocks
  std::chrono::milliseconds claim_idle{10000}; ///< reclaim items pending this long
  /// How often a runner waiting for a job (none live under the name) looks.
  std::chrono::milliseconds poll{200};
  /// Acknowledgements waiting for Redis's answer at most: beyond, the
  /// producer reads no more items (a slow Redis slows the runner down
  /// instead of filling memory).
  std::size_t max_unacked = 1000;
  /// An item delivered this many times (taken, then reclaimed from runners
  /// that died or released it) goes to the dead-letter stream instead.
  unsigned max_deliveries = 5;
  /// A finished (done or cancelled) job's keys expire after this.
  std::chrono::seconds ttl{86400};
  /// A lost connection is made again (connection_options::reconnect) for
  /// this long; then the runner, or the submitter's wait, stops with the
  /// error.
  std::chrono::milliseconds reconnect_for{30000};

  std::string base() const { return "{" + name + "}"; }
  std::string current() const { return base() + ":current"; }
  std::string sequence() const { return base() + ":seq"; }
  static std::string group() { return "workers"; }
};

/// The keys of one job (one id under a name).
struct job_keys
{
  std::string base; ///< `{name}`
  std::string id;

  job_keys(const stream_job_config& cfg, std::string job_id)
      : base(cfg.base()), id(std::move(job_id))
  {}
  std::string prefix() const { return base + ":" + id; }
  std::string items() const { return prefix() + ":items"; }
  std::string results() const { return prefix() + ":results"; }
  std::string dead() const { return prefix() + ":dead"; }
  std::string meta() const { return prefix() + ":meta"; }
};

namespace detail {

// A command's arguments. (Not a braced list inside a coroutine: g++ 12
// rejects some std::initializer_list of string literals there.)
template <class... Args>
std::vector<std::string> args(const Args&... a)
{
  return std::vector<std::string>{std::string(a)...};
}

// An error that passes: the connection lost (the next command reconnects),
// Redis not ready yet (loading its data after a restart), or a cluster
// slot moving (ASK: tried again until MOVED names its new node) or without
// a node for a moment.
inline bool transient(const std::string& what, const connection& conn)
{
  return !conn.connected() || what.rfind("redis: LOADING", 0) == 0
         || what.rfind("redis: TRYAGAIN", 0) == 0 || what.rfind("redis: CLUSTERDOWN", 0) == 0
         || what.rfind("redis: MOVED", 0) == 0 || what.rfind("redis: ASK", 0) == 0;
}

inline long long to_integer(const reply& r)
{
  if (r.type == reply::kind::integer)
    return r.integer;
  if (r.type == reply::kind::string && !r.str.empty())
    return std::stoll(r.str);
  return -1;
}

// Ends a job (KEYS: items, results, dead, meta): its state, and every key
// expires after ttl. Shared by the scripts below (prepended to them).
inline const char* finish_fn = R"(
local function finish(keys, state)
  redis.call('HSET', keys[4], 'state', state)
  local ttl = tonumber(redis.call('HGET', keys[4], 'ttl') or '0')
  if ttl > 0 then
    for i = 1, 4 do redis.call('EXPIRE', keys[i], ttl) end
  end
end
local function complete(keys)
  local m = redis.call('HMGET', keys[4], 'state', 'total', 'done', 'dead')
  if m[1] == 'running' and tonumber(m[3]) + tonumber(m[4]) >= tonumber(m[2]) then
    finish(keys, 'done')
  end
end
)";

// Creates a job under a name, unless one is live (KEYS: current, seq;
// ARGV: base, group, ttl). Returns the new id.
inline const char* create_script = R"(
local cur = redis.call('GET', KEYS[1])
if cur then
  local st = redis.call('HGET', ARGV[1] .. ':' .. cur .. ':meta', 'state')
  if st == 'submitting' or st == 'running' then
    return redis.error_reply('JOBLIVE job ' .. cur .. ' of this name is ' .. st)
  end
end
local id = redis.call('INCR', KEYS[2])
local p = ARGV[1] .. ':' .. id
redis.call('DEL', p .. ':items', p .. ':results', p .. ':dead', p .. ':meta')
redis.call('XGROUP', 'CREATE', p .. ':items', ARGV[2], '0', 'MKSTREAM')
redis.call('HSET', p .. ':meta', 'state', 'submitting', 'total', -1, 'done', 0, 'dead', 0,
           'failed', 0, 'reclaimed', 0, 'ttl', ARGV[3])
redis.call('SET', KEYS[1], id)
return id)";

// Sets the total of a job being submitted and makes it run (KEYS: items,
// results, dead, meta; ARGV: total).
inline std::string seal_script()
{
  return std::string(finish_fn) + R"(
local st = redis.call('HGET', KEYS[4], 'state')
if st ~= 'submitting' then
  return redis.error_reply('JOBSTATE the job is ' .. tostring(st) .. ', not submitting')
end
redis.call('HSET', KEYS[4], 'state', 'running', 'total', ARGV[1])
complete(KEYS)
return 1)";
}

// Cancels a live job (KEYS: items, results, dead, meta). 1 if it was live.
inline std::string cancel_script()
{
  return std::string(finish_fn) + R"(
local st = redis.call('HGET', KEYS[4], 'state')
if st == 'submitting' or st == 'running' then
  finish(KEYS, 'cancelled')
  return 1
end
return 0)";
}

} // namespace detail

/// A job's state and counts, as Redis has them.
struct job_progress
{
  std::string id;
  std::string state; ///< submitting, running, done, cancelled; empty: no such job (or expired)
  long long total = -1;
  long long done = 0;      ///< items with a result
  long long dead = 0;      ///< items moved to the dead-letter stream
  long long failed = 0;    ///< results whose status is not ok
  long long reclaimed = 0; ///< items taken over from another runner
  bool live() const noexcept { return state == "submitting" || state == "running"; }
  bool complete() const noexcept { return state == "done"; }
};

inline asio::awaitable<job_progress> read_progress(connection& conn, const job_keys& keys)
{
  job_progress p;
  p.id = keys.id;
  auto cmd =
      detail::args("HMGET", keys.meta(), "state", "total", "done", "dead", "failed", "reclaimed");
  auto m = co_await conn.async_command(std::move(cmd));
  if (m.elements.size() == 6 && !m.elements[0].is_nil())
  {
    p.state = m.elements[0].str;
    p.total = detail::to_integer(m.elements[1]);
    p.done = detail::to_integer(m.elements[2]);
    p.dead = detail::to_integer(m.elements[3]);
    p.failed = detail::to_integer(m.elements[4]);
    p.reclaimed = detail::to_integer(m.elements[5]);
  }
  co_return p;
}

/// One consumer of a job's group: a runner taking part, or one that left
/// items pending (dead, or stopped).
struct consumer_status
{
  std::string name;
  long long pending = 0; ///< items it holds without a result
  long long idle_ms = 0; ///< since it last read
};

/// An item moved to the dead-letter stream (`{name}:ID:dead`) after
/// `max_deliveries` deliveries without a result.
struct dead_letter
{
  std::string item; ///< its id in the item stream
  std::string data; ///< its value, as submitted
  long long deliveries = 0;
  /// The last error a runner released it with (its own failure), or
  /// "delivered N times without a result" (its runners died with it).
  std::string error;
};

/// A dead-letter entry's fields (name, value, ...) as a `dead_letter`.
inline dead_letter to_dead_letter(const reply& fields)
{
  dead_letter d;
  for (std::size_t f = 0; f + 1 < fields.elements.size(); f += 2)
  {
    const auto& key = fields.elements[f].str;
    const auto& value = fields.elements[f + 1].str;
    if (key == "item")
      d.item = value;
    else if (key == "data")
      d.data = value;
    else if (key == "deliveries")
      d.deliveries = std::atoll(value.c_str());
    else if (key == "error")
      d.error = value;
  }
  return d;
}

/// A job as an operator sees it (`read_status`).
struct job_status
{
  job_progress progress;
  long long pending = 0; ///< items held by runners, without a result
  std::vector<consumer_status> consumers;
  /// The first dead letters (at most `read_status`'s `letters`), with why.
  std::vector<dead_letter> dead_letters;
};

/// The id of the latest job under the name (empty if none).
inline asio::awaitable<std::string> current_job(connection& conn, const stream_job_config& cfg)
{
  auto cmd = detail::args("GET", cfg.current());
  auto r = co_await conn.async_command(std::move(cmd));
  co_return r.is_nil() ? std::string() : r.str;
}

/// The status of job `id` of `cfg.name` (the latest if `id` is empty):
/// counts, what each consumer holds, and the first `letters` dead letters.
/// `progress.state` is empty if there is no such job.
inline asio::awaitable<job_status> read_status(connection& conn, const stream_job_config& cfg,
                                               std::string id = {}, std::size_t letters = 10)
{
  if (id.empty())
    id = co_await current_job(conn, cfg);
  job_status st;
  if (id.empty())
    co_return st;
  const job_keys keys(cfg, id);
  st.progress = co_await read_progress(conn, keys);
  if (st.progress.state.empty())
    co_return st;
  if (st.progress.dead > 0 && letters > 0)
  {
    auto range = detail::args("XRANGE", keys.dead(), "-", "+", "COUNT", std::to_string(letters));
    const auto entries = co_await conn.async_command(std::move(range));
    for (const auto& e : entries.elements)
      if (e.elements.size() >= 2)
        st.dead_letters.push_back(to_dead_letter(e.elements[1]));
  }
  auto cmd = detail::args("XINFO", "CONSUMERS", keys.items(), cfg.group());
  reply list;
  try
  {
    list = co_await conn.async_command(std::move(cmd));
  }
  catch (const error&)
  {
    co_return st; // the items stream expired
  }
  for (const auto& c : list.elements)
  {
    consumer_status cs;
    for (std::size_t f = 0; f + 1 < c.elements.size(); f += 2)
    {
      const auto& key = c.elements[f].str;
      if (key == "name")
        cs.name = c.elements[f + 1].str;
      else if (key == "pending")
        cs.pending = detail::to_integer(c.elements[f + 1]);
      else if (key == "idle")
        cs.idle_ms = detail::to_integer(c.elements[f + 1]);
    }
    st.pending += cs.pending;
    st.consumers.push_back(std::move(cs));
  }
  co_return st;
}

/// The value of field `name` in a stream entry's fields (name, value, ...);
/// empty if it has none.
inline std::string field(const reply& fields, const std::string& name)
{
  for (std::size_t f = 0; f + 1 < fields.elements.size(); f += 2)
    if (fields.elements[f].str == name)
      return fields.elements[f + 1].str;
  return {};
}

/// Reads every entry of stream `key`, oldest first (XRANGE, `page` entries
/// a command), and passes each to `on_entry(id, fields)`. Pass a named
/// function (g++ 12 mishandles temporaries built inside a co_await).
inline asio::awaitable<void>
read_stream(connection& conn, std::string key,
            std::function<void(const std::string& id, const reply& fields)> on_entry,
            std::size_t page = 1000)
{
  std::string from = "-";
  for (;;)
  {
    auto range = detail::args("XRANGE", key, from, "+", "COUNT", std::to_string(page));
    const auto entries = co_await conn.async_command(std::move(range));
    if (entries.elements.empty())
      co_return;
    for (const auto& entry : entries.elements)
    {
      if (entry.elements.size() < 2)
        continue;
      from = "(" + entry.elements[0].str;
      on_entry(entry.elements[0].str, entry.elements[1]);
    }
  }
}

/// Creates a new job under `cfg.name`, writes `values` to its item stream
/// (XADD, field `data`, pipelined in batches of 1,000) and sets its total:
/// the submitter's side. Returns the job's id. Throws `redis::error` if a
/// job of that name is live (`JOBLIVE ...`: submitting or running; it is
/// left alone), or if any XADD was refused or the connection was lost (then
/// the job has no total, so no runner takes a partial job for a whole one;
/// it stays `submitting` until cancelled).
inline asio::awaitable<std::string> submit(connection& conn, const stream_job_config& cfg,
                                           const std::vector<std::string>& values)
{
  auto create = detail::args("EVAL", detail::create_script, "2", cfg.current(), cfg.sequence(),
                             cfg.base(), cfg.group(), std::to_string(cfg.ttl.count()));
  const auto created = co_await conn.async_command(std::move(create));
  const job_keys keys(cfg, created.type == reply::kind::integer ? std::to_string(created.integer)
                                                                : created.str);
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
  const auto items = keys.items();
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    auto cmd = detail::args("XADD", items, "*", "data", values[i]);
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
                + " items were not added (" + refused->first + "); job " + keys.id
                + " has no total");
  auto seal = detail::args("EVAL", detail::seal_script(), "4", keys.items(), keys.results(),
                           keys.dead(), keys.meta(), std::to_string(values.size()));
  co_await conn.async_command(std::move(seal));
  co_return keys.id;
}

/// Waits until every item of job `id` has a result or a dead letter,
/// reading its progress every `poll` and passing it to `on_poll` (if set):
/// the submitter's job-complete. A lost connection is made again for up to
/// `cfg.reconnect_for`. Throws `redis::error` if the job was cancelled or no
/// longer exists (expired, deleted), or the connection stayed lost.
inline asio::awaitable<job_progress>
wait_for_results(connection& conn, const stream_job_config& cfg, std::string id,
                 std::chrono::milliseconds poll,
                 std::function<void(const job_progress&)> on_poll = {})
{
  const job_keys keys(cfg, std::move(id));
  for (;;)
  {
    job_progress p;
    bool lost = false;
    try
    {
      p = co_await read_progress(conn, keys);
    }
    catch (const error& e)
    {
      if (!detail::transient(e.what(), conn) || conn.down_for() > cfg.reconnect_for)
        throw;     // an error reply, or lost for good
      lost = true; // reconnects at the next command
    }
    if (lost)
    {
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::use_awaitable);
      continue;
    }
    if (on_poll)
      on_poll(p);
    if (p.complete())
      co_return p;
    if (p.state == "cancelled")
      throw error("redis: job " + keys.id + " of " + cfg.name + " was cancelled");
    if (p.state.empty())
      throw error("redis: job " + keys.id + " of " + cfg.name + " does not exist (expired?)");
    asio::steady_timer t(co_await asio::this_coro::executor, poll);
    co_await t.async_wait(asio::use_awaitable);
  }
}

/// The job a submitter re-attaches to (after it died, or Redis
/// restarted): job `id` of `cfg.name`, or the latest if `id` is empty. Its
/// results so far and the rest are collected as a submitter's are:
/// `wait_for_results`, then `read_stream` of its results and dead letters.
/// Throws `redis::error` if there is no such job (or its keys expired), or
/// if it was never fully submitted (`submitting`: its submitter stopped
/// while adding items; no runner takes it, cancel it and submit again).
inline asio::awaitable<job_progress> find_job(connection& conn, const stream_job_config& cfg,
                                              std::string id = {})
{
  if (id.empty())
    id = co_await current_job(conn, cfg);
  if (id.empty())
    throw error("redis: no job named " + cfg.name);
  const job_keys keys(cfg, id);
  auto p = co_await read_progress(conn, keys);
  if (p.state.empty())
    throw error("redis: job " + id + " of " + cfg.name + " does not exist (expired?)");
  if (p.state == "submitting")
    throw error("redis: job " + id + " of " + cfg.name
                + " was never fully submitted (its submitter stopped while adding items): "
                  "cancel it and submit again");
  co_return p;
}

/// Cancels the live job of `cfg.name`: its runners stop taking items and
/// its submitter's wait ends with an error; its keys expire after the ttl.
/// Returns the id cancelled, or empty if no job of that name was live.
inline asio::awaitable<std::string> cancel_job(connection& conn, const stream_job_config& cfg)
{
  auto id = co_await current_job(conn, cfg);
  if (id.empty())
    co_return id;
  const job_keys keys(cfg, id);
  auto cmd = detail::args("EVAL", detail::cancel_script(), "4", keys.items(), keys.results(),
                          keys.dead(), keys.meta());
  auto r = co_await conn.async_command(std::move(cmd));
  co_return r.integer == 1 ? id : std::string();
}

} // namespace jobrunner::redis

#endif
