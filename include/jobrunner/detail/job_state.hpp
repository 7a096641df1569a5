// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_JOB_STATE_HPP
#define JOBRUNNER_DETAIL_JOB_STATE_HPP

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/concurrency_limit.hpp>
#include <jobrunner/detail/latency_histogram.hpp>
#include <jobrunner/detail/rate_gate.hpp>
#include <jobrunner/job_summary.hpp>
#include <jobrunner/task_result.hpp>
#include <jobrunner/threading.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace jobrunner {
template <class Item, class Threading>
class Submitter;
} // namespace jobrunner

namespace jobrunner::detail {

using clock = std::chrono::steady_clock;

// Work messages are optional so that Item need not be default-constructible
// (the channel default-constructs payloads on cancellation). An empty message
// with a non-zero error code is an end-of-input marker.
template <class Item>
using work_message = std::optional<Item>;

// `to = std::move(from)` for optionals whose value type may have no move
// assignment (an Item or Result need only be move-constructible).
template <class T>
void move_into(std::optional<T>& to,
               std::optional<T>&& from) noexcept(std::is_nothrow_move_constructible_v<T>)
{
  to.reset();
  if (from)
    to.emplace(std::move(*from));
}

// One cancellable coroutine (a producer or a worker): its executor, the
// signal bound to it, and whether it has finished. `finished` is touched
// only on `executor`, where the emits are posted too.
struct member
{
  asio::any_io_executor executor;
  asio::cancellation_signal signal;
  bool finished = false;

  // A worker's per-task timeout (JobConfig::task_timeout): the deadline
  // timer, the number of the task it guards, and whether it fired.
  std::optional<asio::steady_timer> deadline;
  std::uint64_t task_seq = 0;
  bool timed_out = false;

  // Where a worker waits for its start under JobConfig::rate_limit.
  std::optional<asio::steady_timer> gate_timer;

  // Where a worker parks until another coroutine wakes it (the reorder
  // window, adaptive concurrency). Waits here are shielded from
  // cancellation; a wake may be spurious, so the waiter checks again.
  std::optional<asio::steady_timer> park_timer;
};

// A timer an item waits on before its retry (JobConfig::retry), off the
// workers.
struct retry_slot
{
  asio::any_io_executor executor;
  std::optional<asio::steady_timer> timer;
};

// What a worker receives instead of an item when a retry is due: "take one
// from the retry queue".
inline error_code retry_due() noexcept
{
  return asio::error::try_again;
}

// The input side of a job, which does not depend on the result type: the work
// channel, the counters producers and workers keep, and cancellation.
template <class Item, class Threading>
class job_core : public std::enable_shared_from_this<job_core<Item, Threading>>
{
public:
  using item_type = Item;
  using work_channel = typename Threading::template channel<void(error_code, work_message<Item>)>;
  using producer_function = std::function<asio::awaitable<void>(Submitter<Item, Threading>&)>;

  job_core(asio::any_io_executor ex, const JobConfig& config)
      : executor_(std::move(ex)), config_(config), work_(executor_, config.work_queue_capacity),
        counting_open_(config.retries_off_worker())
  {
    if (config.adaptive_concurrency.enabled)
      limit.emplace(config.workers, config.adaptive_concurrency);
  }

  bool cancel_requested() const noexcept
  {
    return cancel_requested_.load(std::memory_order_acquire);
  }

  // Idempotent and safe from any thread. Producers and workers observe the
  // flag; the emits interrupt the operations they are suspended in.
  void request_cancel() noexcept
  {
    if (cancel_requested_.exchange(true, std::memory_order_seq_cst))
      return;
    if (members_ready_.load(std::memory_order_seq_cst))
      emit_all();
    cancel_retry_timers();
  }

  // The controller creates the members, spawns them, and only then
  // publishes them. An emit must not run before a coroutine has started: it
  // would race with co_spawn connecting the slot, and co_spawn's entry point
  // would throw operation_aborted out of io_context::run().
  void create_members(std::size_t count)
  {
    members_ = std::make_unique<member[]>(count);
    member_count_ = count;
    for (std::size_t i = 0; i < count; ++i)
      members_[i].executor = Threading::coroutine_executor(executor_);
  }

  void publish_members() noexcept
  {
    members_ready_.store(true, std::memory_order_seq_cst);
    // A cancel() racing with the start may have seen members_ready_ false;
    // emitting twice is harmless, missing the emit is not.
    if (cancel_requested_.load(std::memory_order_seq_cst))
      emit_all();
  }

  member& member_at(std::size_t i) noexcept { return members_[i]; }

  // Ends a park_timer wait of member `i` (posted to its executor, where the
  // waiter checks its condition and starts the wait in one step).
  void wake_member(std::size_t i) noexcept
  {
    try
    {
      asio::post(members_[i].executor, [self = this->shared_from_this(), i] {
        auto& m = self->members_[i];
        if (m.park_timer)
          m.park_timer->cancel();
      });
    }
    catch (...)
    {
      // Only allocation can fail here; nothing sensible is left to do.
    }
  }

  // Wakes worker `w` (counted from 0) for the concurrency limit.
  void wake_worker(std::size_t w) noexcept { wake_member(first_worker + w); }

  // Input is over: parked workers must come and take their end markers.
  void end_of_input() noexcept
  {
    if (limit)
      limit->end_of_input([this](std::size_t w) { wake_worker(w); });
  }

  void create_retry_slots(std::size_t count)
  {
    retry_slots_ = std::make_unique<retry_slot[]>(count);
    retry_slot_count_ = count;
    for (std::size_t i = 0; i < count; ++i)
    {
      retry_slots_[i].executor = Threading::coroutine_executor(executor_);
      retry_slots_[i].timer.emplace(retry_slots_[i].executor);
    }
    retry_slots_ready_.store(true, std::memory_order_seq_cst);
    if (cancel_requested_.load(std::memory_order_seq_cst))
      cancel_retry_timers();
  }

  // JobConfig::adaptive_concurrency, when on.
  std::optional<concurrency_limit> limit;
  // Index of the first worker among the members (producers come first).
  std::size_t first_worker = 0;
  // Bookkeeping on the per-item path. An item is counted before a waiting
  // send (a worker may take it before the sender resumes) and uncounted if
  // that send is cancelled; after a successful try_send, right away.
  void on_submitted() noexcept
  {
    submitted_.add();
    note_depth();
  }
  void on_send_started() noexcept { submitted_.add(); }
  void on_send_finished(bool sent) noexcept
  {
    if (sent)
      note_depth();
    else
      submitted_.sub();
  }

  // Around every send of an item: counted open *before* it enters the work
  // queue (another thread may finish it before the send returns), uncounted
  // if the send fails. The producer's share keeps the count above zero.
  void open_item() noexcept
  {
    if (counting_open_)
      open_.fetch_add(1, std::memory_order_relaxed);
  }
  void unopen_item() noexcept
  {
    if (counting_open_)
      open_.fetch_sub(1, std::memory_order_relaxed);
  }

  // With retries off the workers (JobConfig::retries_off_worker) input ends
  // when the producers have finished *and* every item has its final result:
  // a retry goes back into the work queue, so the end markers must wait.
  // `open_` counts the producers' share (1) plus the items without a final
  // result; whoever brings it to zero sends the end markers.
  bool counting_open() const noexcept { return counting_open_; }
  bool release_open() noexcept { return open_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  void note_depth() noexcept
  {
    auto depth = queued();
    auto seen = max_depth_.load(std::memory_order_relaxed);
    while (depth > seen
           && !max_depth_.compare_exchange_weak(seen, depth, std::memory_order_relaxed))
    {}
  }
  // Returns the item's place in the order of taking.
  std::uint64_t on_taken() noexcept { return taken_.add(); }

  std::uint64_t submitted() const noexcept { return submitted_.load(); }
  std::uint64_t taken() const noexcept { return taken_.load(); }
  std::uint64_t queued() const noexcept
  {
    auto s = submitted_.load();
    auto t = taken_.load();
    return s > t ? s - t : 0;
  }
  std::uint64_t max_queue_depth() const noexcept
  {
    return max_depth_.load(std::memory_order_relaxed);
  }

  void record_producer_error(std::exception_ptr e)
  {
    std::lock_guard lock(producer_error_mutex_);
    if (producer_errors_++ == 0)
      first_producer_error_ = std::move(e);
  }

  const asio::any_io_executor& executor() const noexcept { return executor_; }
  const JobConfig& config() const noexcept { return config_; }
  work_channel& work() noexcept { return work_; }

  std::vector<producer_function> producers;
  std::atomic<std::size_t> producers_left{0};

protected:
  // A cancelled job does not wait for its retries: each waiting item goes
  // back at once (and is reported with its last attempt's outcome).
  void cancel_retry_timers() noexcept
  {
    if (!retry_slots_ready_.load(std::memory_order_seq_cst))
      return;
    for (std::size_t i = 0; i < retry_slot_count_; ++i)
    {
      try
      {
        asio::post(retry_slots_[i].executor,
                   [self = this->shared_from_this(), i] { self->retry_slots_[i].timer->cancel(); });
      }
      catch (...)
      {
        // Only allocation can fail: that item then waits out its backoff.
      }
    }
  }

  void emit_all() noexcept
  {
    for (std::size_t i = 0; i < member_count_; ++i)
    {
      try
      {
        asio::post(members_[i].executor, [self = this->shared_from_this(), i] {
          auto& m = self->members_[i];
          if (!m.finished)
            m.signal.emit(asio::cancellation_type::terminal);
        });
      }
      catch (...)
      {
        // Only allocation can fail here. The coroutine still sees the flag
        // before its next task or submit.
      }
    }
  }

  asio::any_io_executor executor_;
  JobConfig config_;
  work_channel work_;

  bool counting_open_ = false;
  std::atomic<std::size_t> open_{1};

  std::unique_ptr<retry_slot[]> retry_slots_;
  std::size_t retry_slot_count_ = 0;
  std::atomic<bool> retry_slots_ready_{false};

  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> members_ready_{false};
  std::unique_ptr<member[]> members_;
  std::size_t member_count_ = 0;

  counter<Threading::concurrent> submitted_;
  counter<Threading::concurrent> taken_;
  std::atomic<std::uint64_t> max_depth_{0};

  mutable std::mutex producer_error_mutex_;
  std::uint64_t producer_errors_ = 0;
  std::exception_ptr first_producer_error_;
};

// The whole job: the input side plus the function, the result channel, the
// callbacks and what the result handler counts.
template <class Item, class Result, class Threading>
class job_state : public job_core<Item, Threading>
{
public:
  using task_result = TaskResult<Item, Result>;
  using result_message = std::optional<task_result>;
  using result_channel = typename Threading::template channel<void(error_code, result_message)>;
  using async_function = std::function<asio::awaitable<Result>(Item&)>;
  using sync_function = std::function<Result(Item&)>;
  using task_callback = std::function<void(task_result&)>;
  using retry_predicate = std::function<bool(const task_result&)>;
  using job_callback = std::function<void(const JobSummary&)>;

  job_state(asio::any_io_executor ex, const JobConfig& config)
      : job_core<Item, Threading>(std::move(ex), config),
        results_(this->executor_, config.result_queue_capacity)
  {
    if (config.rate_limit.per_second > 0)
      rate.emplace(config.rate_limit.per_second, config.rate_limit.burst);
  }

  // JobConfig::rate_limit, when set.
  std::optional<rate_gate> rate;

  // Server push-back: dispatch waits until this time (steady_clock, ns since
  // its epoch; 0 = never paused, so that no clock is read per item until a
  // push-back happens).
  std::atomic<std::int64_t> paused_until{0};
  std::atomic<std::int64_t> paused_ns{0};
  counter<Threading::concurrent> retried;

  void pause_for(std::chrono::nanoseconds delay) noexcept
  {
    const std::int64_t now =
        std::chrono::steady_clock::now().time_since_epoch() / std::chrono::nanoseconds(1);
    const std::int64_t until = now + delay.count();
    std::int64_t old = paused_until.load(std::memory_order_relaxed);
    while (until > old
           && !paused_until.compare_exchange_weak(old, until, std::memory_order_relaxed))
    {}
    if (until > old)
      paused_ns.fetch_add(until - (old > now ? old : now), std::memory_order_relaxed);
  }

  result_channel& results() noexcept { return results_; }

  // --- Retries off the workers (JobConfig::retries_off_worker) ---------------
  // An item waiting for its retry sits in a slot (at most retry_slots() of
  // them) with a timer; when the timer fires (or the job is cancelled) the
  // slot joins the ready queue and a retry_due() message goes into the work
  // queue, after which a worker takes the record back. The message is sent
  // after the slot is queued and the end markers only after the record's
  // final result, so FIFO order delivers every retry_due() before them.

  void create_retry_storage(std::size_t count)
  {
    retry_records_ = std::make_unique<result_message[]>(count);
    free_slots_.reserve(count);
    for (std::size_t i = count; i-- > 0;)
      free_slots_.push_back(i);
    this->create_retry_slots(count);
  }

  // Moves `record` into a free slot and starts its backoff; false (and
  // `record` untouched) when every slot is taken.
  bool defer_retry(result_message& record, std::chrono::nanoseconds delay)
  {
    std::size_t i = 0;
    {
      std::lock_guard lock(retry_mutex_);
      if (free_slots_.empty())
        return false;
      i = free_slots_.back();
      free_slots_.pop_back();
    }
    move_into(retry_records_[i], std::move(record));
    record.reset();
    auto self = std::static_pointer_cast<job_state>(this->shared_from_this());
    asio::post(this->retry_slots_[i].executor, [self, i, delay] {
      auto& timer = *self->retry_slots_[i].timer;
      if (self->cancel_requested())
      {
        self->retry_is_due(i);
        return;
      }
      timer.expires_after(delay);
      timer.async_wait([self, i](error_code) { self->retry_is_due(i); });
    });
    return true;
  }

  // The record whose retry is due. There is one retry_due() message per
  // queued slot and only a worker holding such a message takes from the
  // queue, so it is never empty then; an empty result is handled anyway.
  result_message take_retry()
  {
    result_message record;
    std::lock_guard lock(retry_mutex_);
    if (ready_slots_.empty())
      return record;
    const auto i = ready_slots_.front();
    ready_slots_.pop_front();
    move_into(record, std::move(retry_records_[i]));
    retry_records_[i].reset();
    free_slots_.push_back(i);
    return record;
  }

  // --- Ordered delivery (JobConfig::ordered_delivery) -----------------------
  // Item `seq` may start once seq < delivered + window. A worker that must
  // wait registers here and parks; the result handler wakes it.

  // True if `seq` may start; otherwise member `index` is registered.
  bool window_admits(std::uint64_t seq, std::size_t index)
  {
    std::lock_guard lock(window_mutex_);
    if (seq < delivered_ + this->config().window())
      return true;
    window_waiters_.emplace_back(seq, index);
    return false;
  }

  void set_delivered(std::uint64_t delivered)
  {
    std::lock_guard lock(window_mutex_);
    delivered_ = delivered;
    const auto bound = delivered_ + this->config().window();
    for (std::size_t k = 0; k < window_waiters_.size();)
    {
      if (window_waiters_[k].first < bound)
      {
        this->wake_member(window_waiters_[k].second);
        window_waiters_[k] = window_waiters_.back();
        window_waiters_.pop_back();
      }
      else
        ++k;
    }
  }

  JobStats stats() const noexcept
  {
    JobStats s;
    s.succeeded = succeeded.load();
    s.failed = failed.load();
    s.cancelled = cancelled.load();
    s.timed_out = timed_out.load();
    auto taken = this->taken();
    s.submitted = this->submitted();
    s.queued = s.submitted > taken ? s.submitted - taken : 0;
    auto done = s.done();
    s.in_flight = taken > done ? taken - done : 0;
    s.concurrency_limit = this->limit ? this->limit->current() : this->config().workers;
    return s;
  }

  // JobConfig::retry: whether an attempt's outcome calls for another one.
  // A predicate that throws says no.
  bool is_retryable(const task_result& r) const noexcept
  {
    if (!retryable)
      return r.status == task_status::failed || r.status == task_status::timed_out;
    try
    {
      return retryable(r);
    }
    catch (...)
    {
      return false;
    }
  }

  // Set once, before the job starts.
  retry_predicate retryable;
  async_function async_fn;
  sync_function sync_fn;
  task_callback on_task;
  job_callback on_job;

  // 0 = not started, 1 = running, 2 = ended.
  std::atomic<int> phase{0};
  // Set when async_run is initiated: the configuration is final.
  std::atomic<bool> launched{false};
  // Set by the result handler when the failure budget is exceeded; the job
  // is then cancelled, and ends as aborted.
  std::atomic<bool> aborted{false};

  void abort() noexcept
  {
    aborted.store(true, std::memory_order_release);
    this->request_cancel();
  }
  std::atomic<std::size_t> workers_left{0};
  std::atomic<std::size_t> live{0};
  clock::time_point start_time;

  // Written by the result handler only.
  counter<false> succeeded;
  counter<false> failed;
  counter<false> cancelled;
  counter<false> timed_out;
  std::uint64_t callback_errors = 0;
  std::exception_ptr first_callback_error;
  latency_histogram latencies;

  // The controller's wake-up: cancelled (on the controller's executor) when
  // the last coroutine has finished. Owned here, not by the controller's
  // frame, because that post may run after the controller has returned.
  asio::any_io_executor controller_executor;
  std::optional<asio::steady_timer> done_event;

  // Written by a coroutine's completion handler if an internal coroutine
  // ever lets an exception out (it should not); rethrown by the controller.
  std::atomic<bool> internal_error_set{false};
  std::exception_ptr internal_error;

  JobSummary make_summary() const
  {
    JobSummary s;
    s.status = aborted.load(std::memory_order_acquire) ? job_status::aborted
               : this->cancel_requested()              ? job_status::cancelled
                                                       : job_status::completed;
    s.submitted = this->submitted();
    s.succeeded = succeeded.load();
    s.failed = failed.load();
    s.cancelled = cancelled.load();
    s.timed_out = timed_out.load();
    s.retried = retried.load();
    s.paused = std::chrono::nanoseconds(paused_ns.load(std::memory_order_relaxed));
    {
      std::lock_guard lock(this->producer_error_mutex_);
      s.producer_errors = this->producer_errors_;
      s.first_producer_error = this->first_producer_error_;
    }
    s.callback_errors = callback_errors;
    s.first_callback_error = first_callback_error;
    s.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start_time);
    auto secs = std::chrono::duration<double>(s.elapsed).count();
    s.items_per_second = secs > 0 ? static_cast<double>(s.submitted) / secs : 0.0;
    s.latency.count = latencies.count();
    s.latency.p50 = std::chrono::nanoseconds(latencies.percentile(0.50));
    s.latency.p90 = std::chrono::nanoseconds(latencies.percentile(0.90));
    s.latency.p99 = std::chrono::nanoseconds(latencies.percentile(0.99));
    s.latency.max = std::chrono::nanoseconds(latencies.max());
    s.max_queue_depth = static_cast<std::size_t>(this->max_queue_depth());
    s.lowest_concurrency_limit = this->limit ? this->limit->lowest() : this->config().workers;
    return s;
  }

private:
  void retry_is_due(std::size_t i)
  {
    {
      std::lock_guard lock(retry_mutex_);
      ready_slots_.push_back(i);
    }
    // Never cancelled (no slot bound, the channel never closed): it
    // completes when a worker has received it. (Retries are rare: no
    // try_send fast path here.)
    this->work().async_send(retry_due(), work_message<Item>{}, [](error_code) {});
  }

  result_channel results_;

  std::mutex retry_mutex_;
  std::unique_ptr<result_message[]> retry_records_;
  std::vector<std::size_t> free_slots_;
  std::deque<std::size_t> ready_slots_;

  std::mutex window_mutex_;
  std::uint64_t delivered_ = 0;
  std::vector<std::pair<std::uint64_t, std::size_t>> window_waiters_;
};

} // namespace jobrunner::detail

#endif
