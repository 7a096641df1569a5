// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_REDIS_STREAM_JOB_HPP
#define JOBRUNNER_REDIS_STREAM_JOB_HPP

// One job shared by several runners (processes, hosts) through Redis
// Streams with a consumer group (keys and lifecycle: job.hpp):
// - a runner waits until a job of its name is live (workers may start
//   before the submitter), then takes part in that job (one id) until it is
//   done or cancelled;
// - its producer reads items with XREADGROUP (blocking) and reclaims items
//   another consumer left pending for longer than `claim_idle` with
//   XAUTOCLAIM (a runner that died), each time only as many as the runner
//   has room for (free places in its work queue and workers, at most
//   `batch`), and waits for room before the next read: an item read is
//   started soon, not left waiting past `claim_idle` for the others to
//   claim it from a slow runner; an item delivered more than
//   `max_deliveries` times goes to the dead-letter stream instead;
// - when an item's result has been handled, one Lua script acknowledges it
//   (XACK) and, only if that acknowledgement was the first, appends the
//   result to the result stream and counts it: an item processed twice
//   (reclaimed from a slow, not dead, runner) still has one result;
// - a stopping runner (`stream_worker::stop`, or the runner cancelled)
//   writes no result for the items it did not finish: it releases them (they
//   stay pending, marked idle, and the other runners take them over at
//   their next claim round).
// At-least-once processing, exactly one result (or dead letter) per item.

#include <jobrunner/job_runner.hpp>
#include <jobrunner/redis/connection.hpp>
#include <jobrunner/redis/job.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace jobrunner::redis {

/// What a runner's function receives: the stream entry's id and its value.
template <class T>
struct stream_item
{
  std::string id;
  T value;
};

namespace detail {

// KEYS: items, results, dead, meta; ARGV: group, id, status, result.
inline const std::string& ack_script()
{
  static const std::string text = std::string(finish_fn) + R"(
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XADD', KEYS[2], '*', 'item', ARGV[2], 'status', ARGV[3], 'result', ARGV[4])
  redis.call('HINCRBY', KEYS[4], 'done', 1)
  if ARGV[3] ~= 'ok' then redis.call('HINCRBY', KEYS[4], 'failed', 1) end
  complete(KEYS)
  return 1
end
return 0)";
  return text;
}

// XAUTOCLAIM, then every claimed entry delivered more than max times goes to
// the dead-letter stream (acknowledged, counted). KEYS: items, results,
// dead, meta; ARGV: group, consumer, min idle, cursor, count, max.
// Returns {cursor, entries kept, dead-lettered, delivery counts of the kept}.
inline const std::string& claim_script()
{
  static const std::string text = std::string(finish_fn) + R"(
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local keep = {}
local counts = {}
local dead = 0
for _, e in ipairs(r[2]) do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
  if p[1] and p[1][4] > tonumber(ARGV[6]) then
    local data = ''
    for i = 1, #e[2], 2 do if e[2][i] == 'data' then data = e[2][i + 1] end end
    local n = p[1][4] - 1
    local err = redis.call('HGET', KEYS[4], 'error:' .. e[1])
    if not err then err = 'delivered ' .. n .. ' times without a result' end
    redis.call('XACK', KEYS[1], ARGV[1], e[1])
    redis.call('XADD', KEYS[3], '*', 'item', e[1], 'deliveries', n, 'data', data, 'error', err)
    redis.call('HINCRBY', KEYS[4], 'dead', 1)
    dead = dead + 1
  else
    table.insert(keep, e)
    table.insert(counts, p[1] and p[1][4] or 0)
  end
end
if #keep > 0 then redis.call('HINCRBY', KEYS[4], 'reclaimed', #keep) end
if dead > 0 then complete(KEYS) end
return {r[1], keep, dead, counts})";
  return text;
}

// Releases an item this consumer holds: it stays pending, idle for ARGV[4]
// ms (so any runner's next claim round takes it), its delivery count less
// one if ARGV[5] is 1 (it was not processed). A non-empty ARGV[6] is the
// attempt's error, kept in the meta hash (field error:ID) for the item's
// dead letter. KEYS: items, meta; ARGV: group, consumer, id, idle, uncount,
// error.
inline const char* release_script = R"(
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #p == 1 then
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[2], 'error:' .. ARGV[3], ARGV[6]) end
  local n = p[1][4]
  if ARGV[5] == '1' and n > 0 then n = n - 1 end
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'RETRYCOUNT', n,
             'JUSTID')
  return 1
end
return 0)";

// Removes the group's consumers that hold nothing and have been idle for
// more than ARGV[2] ms (-1: all that hold nothing): runners that died or
// left. A removed live runner is added back by its next read. KEYS: items;
// ARGV: group, idle.
inline const char* forget_script = R"(
local n = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['pending'] == 0 and f['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    n = n + 1
  end
end
return n)";

// A failed attempt's error, for the item's dead letter: the exception's
// text, or the status.
template <class Result>
std::string error_text(const Result& res)
{
  if (res.error)
  {
    try
    {
      std::rethrow_exception(res.error);
    }
    catch (const std::exception& e)
    {
      return e.what();
    }
    catch (...)
    {
      return "an exception that is not a std::exception";
    }
  }
  return res.status == task_status::timed_out ? "timed out" : "failed";
}

// CLIENT SETNAME jobrunner:CONSUMER:ROLE (no spaces allowed).
inline std::string client_name(std::string consumer, const char* role)
{
  std::replace(consumer.begin(), consumer.end(), ' ', '_');
  return "jobrunner:" + consumer + ":" + role;
}

// Idle time given to released items: any claim_idle is shorter.
constexpr long long released_idle_ms = 1000LL * 3600 * 24 * 365;

} // namespace detail

/// A runner's part in a distributed job, as `attach` returns it. Use it on
/// the connections' executor.
class stream_worker
{
public:
  /// Stops taking items: the producer ends (items it read and did not
  /// submit are released), the items taken are finished and acknowledged.
  /// To bound that drain, cancel the runner after a grace period: the
  /// unfinished items are then released, not given a result.
  void stop() noexcept { stopping_ = true; }
  bool stopping() const noexcept { return stopping_; }

  /// The id of the job this runner took part in (empty while waiting).
  const std::string& job_id() const noexcept { return job_id_; }
  /// The job was cancelled (or expired) while this runner took part.
  bool job_cancelled() const noexcept { return job_cancelled_; }
  /// Why the runner stopped on its own (an acknowledgement that failed:
  /// the connection lost, Redis's error); empty otherwise.
  const std::string& failure() const noexcept { return failure_; }

  std::uint64_t taken() const noexcept { return taken_; }               ///< items read or claimed
  std::uint64_t reclaimed() const noexcept { return reclaimed_; }       ///< of which claimed
  std::uint64_t acknowledged() const noexcept { return acknowledged_; } ///< results written
  std::uint64_t duplicates() const noexcept { return duplicates_; }     ///< acknowledged by another
  std::uint64_t released() const noexcept { return released_; }         ///< left for the others
  std::uint64_t dead_lettered() const noexcept { return dead_lettered_; }
  /// Acknowledgements lost with their connection (the items are claimed
  /// again, by this runner or another).
  std::uint64_t lost_acks() const noexcept { return lost_acks_; }

private:
  template <class T, class Result, class Decode, class Encode, class ReleaseIf>
  friend std::shared_ptr<stream_worker>
  attach(JobRunner<stream_item<T>, Result>&, std::shared_ptr<connection>,
         std::shared_ptr<connection>, stream_job_config, Decode, Encode, ReleaseIf);

  static void send_ack(std::shared_ptr<stream_worker> w, std::shared_ptr<connection> acker,
                       std::shared_ptr<std::vector<std::string>> cmd,
                       std::chrono::milliseconds limit)
  {
    ++w->unacked_;
    acker->command(*cmd, [w, acker, cmd, limit](const reply* rp, const std::string& err) {
      --w->unacked_;
      if (rp == nullptr)
      {
        // Lost with the connection: the item stays pending and is claimed
        // again; the next command reconnects.
        ++w->lost_acks_;
        if (acker->down_for() > limit)
          w->fail("redis: acknowledgement connection lost for more than "
                  + std::to_string(limit.count()) + " ms ("
                  + (err.rfind("redis: ", 0) == 0 ? err.substr(7) : err) + ")");
      }
      else if (rp->is_error() && rp->str.rfind("NOSCRIPT", 0) == 0)
      {
        // Redis lost its script cache (a restart): send the text again.
        w->ack_sha_.clear();
        (*cmd)[0] = "EVAL";
        (*cmd)[1] = detail::ack_script();
        send_ack(w, acker, cmd, limit);
      }
      else if (rp->is_error() && detail::transient("redis: " + rp->str, *acker))
        ++w->lost_acks_; // Redis still loading: claimed again later
      else if (rp->is_error())
        w->fail("redis: acknowledgement refused: " + rp->str);
      else if (rp->integer == 1)
        ++w->acknowledged_;
      else
        ++w->duplicates_;
    });
  }

  void fail(std::string why)
  {
    if (failure_.empty())
      failure_ = std::move(why);
    if (cancel_)
      cancel_();
  }

  std::atomic<bool> stopping_{false};
  std::string job_id_;
  bool job_cancelled_ = false;
  std::string failure_;
  std::function<void()> cancel_;
  std::size_t unacked_ = 0;                      // acknowledgements sent, not yet answered
  std::uint64_t completed_ = 0;                  // task-complete calls
  std::string ack_sha_;                          // the acknowledgement script's SHA1, once loaded
  std::unordered_set<std::string> own_releases_; // released for this runner's own failure
  std::uint64_t taken_ = 0, reclaimed_ = 0, acknowledged_ = 0, duplicates_ = 0, released_ = 0,
                dead_lettered_ = 0, lost_acks_ = 0;
};

/// Makes `runner` take part in the next live job named `cfg.name`: adds the
/// stream producer and the task-complete callback that acknowledges each
/// item with its result. `decode(std::string) -> T`;
/// `encode(const TaskResult&) -> std::string` (the result field, for any
/// status). `reader` blocks in XREADGROUP, so it must not be `acker`. The
/// caller closes both when the job ends (`close()` the reader,
/// `disconnect()` the acker so that the last acknowledgements and releases
/// are answered). The task-complete callback is the acknowledgement: do not
/// replace it afterwards. A lost connection is made again (the connections'
/// `reconnect` option): an acknowledgement lost with it leaves its item
/// pending, claimed again later. If a connection stays lost longer than
/// `cfg.reconnect_for`, or Redis refuses an acknowledgement, the runner
/// stops (a producer error, or cancelled with `failure()` saying why); its
/// unacknowledged items stay pending for the others.
/// `release_if(const TaskResult&) -> bool`, asked for each failed or timed
/// out result: true means the failure is this runner's own (say, it cannot
/// reach a service the others can): no result is written, the item is
/// released for the other runners (its delivery counted, and this runner
/// does not take it back).
template <class T, class Result, class Decode, class Encode, class ReleaseIf>
std::shared_ptr<stream_worker> attach(JobRunner<stream_item<T>, Result>& runner,
                                      std::shared_ptr<connection> reader,
                                      std::shared_ptr<connection> acker, stream_job_config cfg,
                                      Decode decode, Encode encode, ReleaseIf release_if)
{
  auto w = std::make_shared<stream_worker>();
  // Items this runner holds at most: its work queue and its workers.
  const std::uint64_t holds = runner.config().work_queue_capacity + runner.config().workers;
  auto* r = &runner;
  w->cancel_ = [r] { r->cancel(); };
  auto keys = std::make_shared<job_keys>(cfg, std::string());
  runner.add_producer([reader, cfg, decode, w, keys, holds](auto& out) -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    // Once the runner is cancelled, the producer still releases the items
    // it read (Redis commands ignore the cancellation; timers do not).
    co_await asio::this_coro::throw_if_cancelled(false);
    reader->set_name(detail::client_name(cfg.consumer, "reader"));
    const auto release = [&](const std::string& id, bool uncount) -> asio::awaitable<void> {
      auto cmd = detail::args("EVAL", detail::release_script, "2", keys->items(), keys->meta(),
                              cfg.group(), cfg.consumer, id,
                              std::to_string(detail::released_idle_ms), uncount ? "1" : "0", "");
      auto rel = co_await reader->async_command(std::move(cmd));
      if (rel.integer == 1)
        ++w->released_;
    };
    // Until every item taken has its result.
    const auto drained = [&]() -> asio::awaitable<void> {
      while (w->taken_ > w->completed_)
      {
        asio::steady_timer t(ex, std::chrono::milliseconds(5));
        co_await t.async_wait(asio::use_awaitable);
      }
    };
    const auto submit = [&](const std::string& id, const reply& fields) -> asio::awaitable<void> {
      for (std::size_t f = 0; f + 1 < fields.elements.size(); f += 2)
        if (fields.elements[f].str == "data")
        {
          stream_item<T> item{id, decode(fields.elements[f + 1].str)};
          bool aborted = false;
          try
          {
            co_await out.submit(std::move(item));
            ++w->taken_;
          }
          catch (const boost::system::system_error&)
          {
            aborted = true; // the runner was cancelled
          }
          if (aborted)
          {
            w->stopping_ = true;
            co_await release(id, true);
          }
          co_return;
        }
    };
    // Items to read or claim now: free places (items taken and not yet
    // completed are queued, running or waiting for their callback).
    const auto room = [&]() -> std::uint64_t {
      const auto held = w->taken_ - w->completed_;
      const std::uint64_t free = held < holds ? holds - held : 0;
      return cfg.batch == 0 ? free : std::min<std::uint64_t>(free, cfg.batch);
    };
    bool claim_now = false; // a suspect was run alone, others released: claim again at once
    std::string cursor = "0-0";
    // Submits the entries (id, fields) or, once stopping, releases them.
    // `counts`: their delivery counts, for claimed entries.
    const auto take = [&](const reply& entries, const reply* counts) -> asio::awaitable<void> {
      std::vector<std::size_t> suspects;
      for (std::size_t i = 0; i < entries.elements.size(); ++i)
      {
        const auto& e = entries.elements[i];
        if (e.elements.size() < 2)
          continue; // deleted meanwhile
        const auto& id = e.elements[0].str;
        if (w->stopping_ || !w->failure_.empty())
        {
          co_await release(id, true);
          continue;
        }
        if (counts != nullptr && w->own_releases_.count(id) != 0)
        {
          // Released here because of this runner's own failure: leave it
          // to the others (its delivery count unchanged).
          co_await release(id, true);
          continue;
        }
        // Delivered twice before without a result: it may be what kills its
        // runners. Such items run alone (below), so that when one kills
        // this runner too, only its own count grows (it ends as a dead
        // letter), not that of the items taken with it.
        if (counts != nullptr && i < counts->elements.size() && counts->elements[i].integer >= 3)
        {
          suspects.push_back(i);
          continue;
        }
        co_await submit(id, e.elements[1]);
      }
      if (suspects.empty())
        co_return;
      // One suspect here; the others back, their counts as they were, for
      // the next claims (at once).
      for (std::size_t k = 1; k < suspects.size(); ++k)
        co_await release(entries.elements[suspects[k]].elements[0].str, true);
      const auto& e = entries.elements[suspects[0]];
      co_await drained();
      if (!w->stopping_ && w->failure_.empty())
        co_await submit(e.elements[0].str, e.elements[1]);
      else
        co_await release(e.elements[0].str, true);
      co_await drained();
      claim_now = true;
      cursor = "0-0";
    };
    const auto claim_every =
        std::min<std::chrono::milliseconds>(cfg.claim_idle / 2, std::chrono::seconds(1));
    auto last_claim = std::chrono::steady_clock::now() - claim_every;
    auto last_forget = std::chrono::steady_clock::now();
    enum class next_step
    {
      again,
      wait,  // no live job yet, or nothing new: pause
      leave, // the job is done, or the runner stops
      end    // the job was cancelled or is gone
    };
    // One step: find the job, or claim and read a batch and submit it.
    const auto step = [&]() -> asio::awaitable<next_step> {
      if (w->stopping_)
        co_return next_step::leave;
      if (keys->id.empty())
      {
        auto id = co_await current_job(*reader, cfg);
        if (id.empty())
          co_return next_step::wait;
        const job_keys candidate(cfg, id);
        const auto p = co_await read_progress(*reader, candidate);
        if (!p.live())
          co_return next_step::wait;
        *keys = candidate;
        w->job_id_ = id;
      }
      if (w->ack_sha_.empty())
      {
        auto load = detail::args("SCRIPT", "LOAD", detail::ack_script());
        const auto loaded = co_await reader->async_command(std::move(load));
        w->ack_sha_ = loaded.str;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_claim >= claim_every || claim_now)
      {
        last_claim = now;
        claim_now = false;
        auto claim = detail::args("EVAL", detail::claim_script(), "4", keys->items(),
                                  keys->results(), keys->dead(), keys->meta(), cfg.group(),
                                  cfg.consumer, std::to_string(cfg.claim_idle.count()), cursor,
                                  std::to_string(room()), std::to_string(cfg.max_deliveries));
        auto claimed = co_await reader->async_command(std::move(claim));
        if (claimed.elements.size() >= 3)
        {
          cursor = claimed.elements[0].str;
          w->reclaimed_ += claimed.elements[1].elements.size();
          w->dead_lettered_ += static_cast<std::uint64_t>(claimed.elements[2].integer);
          const reply* counts = claimed.elements.size() >= 4 ? &claimed.elements[3] : nullptr;
          co_await take(claimed.elements[1], counts);
        }
        if (now - last_forget >= cfg.claim_idle)
        {
          last_forget = now;
          auto forget = detail::args("EVAL", detail::forget_script, "1", keys->items(), cfg.group(),
                                     std::to_string(cfg.claim_idle.count()));
          co_await reader->async_command(std::move(forget));
        }
      }
      if (room() == 0)
        co_return next_step::again; // the claimed items filled it: wait for room
      auto next = detail::args("XREADGROUP", "GROUP", cfg.group(), cfg.consumer, "COUNT",
                               std::to_string(room()), "BLOCK", std::to_string(cfg.block.count()),
                               "STREAMS", keys->items(), ">");
      auto read = co_await reader->async_command(std::move(next));
      if (!read.is_nil())
      {
        for (const auto& stream : read.elements)
          if (stream.elements.size() >= 2)
            co_await take(stream.elements[1], nullptr);
        co_return next_step::again;
      }
      // Nothing new: is the job still live?
      const auto p = co_await read_progress(*reader, *keys);
      if (p.complete())
        co_return next_step::leave;
      if (!p.live())
        co_return next_step::end;
      co_return next_step::again;
    };
    for (;;)
    {
      if (!w->failure_.empty())
        throw error(w->failure_);
      // Room in the runner (taken items completed), acknowledgements
      // answered.
      while ((room() == 0 || w->unacked_ > cfg.max_unacked) && w->failure_.empty() && !w->stopping_)
      {
        asio::steady_timer t(ex, std::chrono::milliseconds(5));
        co_await t.async_wait(asio::use_awaitable);
      }
      auto next = next_step::again;
      bool lost = false;
      try
      {
        next = co_await step();
      }
      catch (const error& e)
      {
        if (!detail::transient(e.what(), *reader))
          throw; // an error reply: a bug or a misconfiguration, not the network
        lost = true;
      }
      if (lost)
      {
        // Items read and not yet submitted stay pending: claimed later.
        if (reader->down_for() > cfg.reconnect_for)
          throw error("redis: connection lost for more than "
                      + std::to_string(cfg.reconnect_for.count()) + " ms (" + reader->last_error()
                      + ")");
        next = next_step::wait; // the next command reconnects (with backoff)
      }
      if (next == next_step::leave)
        break;
      if (next == next_step::end)
      {
        w->job_cancelled_ = true; // cancelled, or its keys are gone
        w->cancel_();
        co_return;
      }
      if (next == next_step::wait)
      {
        asio::steady_timer t(ex, lost ? std::chrono::milliseconds(100) : cfg.poll);
        co_await t.async_wait(asio::use_awaitable);
      }
    }
    if (keys->id.empty())
      co_return;
    // Leaving: consumers that hold nothing (this one, runners that died or
    // left) are removed from the group.
    auto forget =
        detail::args("EVAL", detail::forget_script, "1", keys->items(), cfg.group(), "-1");
    co_await reader->async_command(std::move(forget));
  });

  // Named (CLIENT LIST shows whose connection it is).
  acker->set_name(detail::client_name(cfg.consumer, "acker"));
  runner.on_task_complete([acker, cfg, encode, release_if, w, keys](auto& res) {
    ++w->completed_;
    // Unavailable (the circuit breaker gave up, issue 14) is handled as cancelled.
    const bool stopped =
        res.status == task_status::cancelled || res.status == task_status::unavailable;
    if (!res.ok() && !stopped && release_if(std::as_const(res)))
    {
      // This runner's own problem: the item goes back, its delivery
      // counted (an item no runner can process ends as a dead letter).
      w->own_releases_.insert(res.item.id);
      ++w->unacked_;
      acker->command(detail::args("EVAL", detail::release_script, "2", keys->items(), keys->meta(),
                                  cfg.group(), cfg.consumer, res.item.id,
                                  std::to_string(detail::released_idle_ms), "0",
                                  detail::error_text(res)),
                     [w](const reply* rp, const std::string&) {
                       --w->unacked_;
                       if (rp != nullptr && rp->integer == 1)
                         ++w->released_;
                     });
      return;
    }
    if (stopped)
    {
      // Stopped before it finished: no result; another runner takes it.
      ++w->unacked_;
      acker->command(detail::args("EVAL", detail::release_script, "2", keys->items(), keys->meta(),
                                  cfg.group(), cfg.consumer, res.item.id,
                                  std::to_string(detail::released_idle_ms), "1", ""),
                     [w](const reply* rp, const std::string&) {
                       --w->unacked_;
                       if (rp != nullptr && rp->integer == 1)
                         ++w->released_;
                     });
      return;
    }
    const char* status = res.ok() ? "ok" : "failed";
    // By the script's SHA1 once the producer has loaded it (the text is
    // sent, and hashed by Redis, only until then).
    auto cmd = std::make_shared<std::vector<std::string>>(
        detail::args("EVAL", "", "4", keys->items(), keys->results(), keys->dead(), keys->meta(),
                     cfg.group(), res.item.id, status, encode(res)));
    if (!w->ack_sha_.empty())
    {
      (*cmd)[0] = "EVALSHA";
      (*cmd)[1] = w->ack_sha_;
    }
    else
      (*cmd)[1] = detail::ack_script();
    stream_worker::send_ack(w, acker, std::move(cmd), cfg.reconnect_for);
  });
  return w;
}

/// `attach` without `release_if`: every failure is a final result.
template <class T, class Result, class Decode, class Encode>
std::shared_ptr<stream_worker>
attach(JobRunner<stream_item<T>, Result>& runner, std::shared_ptr<connection> reader,
       std::shared_ptr<connection> acker, stream_job_config cfg, Decode decode, Encode encode)
{
  return attach(runner, std::move(reader), std::move(acker), std::move(cfg), std::move(decode),
                std::move(encode), [](const auto&) { return false; });
}

} // namespace jobrunner::redis

#endif
