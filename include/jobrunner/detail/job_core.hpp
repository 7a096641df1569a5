// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_JOB_CORE_HPP
#define JOBRUNNER_DETAIL_JOB_CORE_HPP

// The input side of a job, which does not depend on the result type: the
// work channel, the members, cancellation and drain, the end of input, the
// counters in. job_state.hpp adds the rest.

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_counters.hpp>
#include <jobrunner/detail/member_set.hpp>
#include <jobrunner/detail/open_input.hpp>
#include <jobrunner/detail/policy/concurrency_limit.hpp>
#include <jobrunner/detail/policy/drain.hpp>
#include <jobrunner/threading.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace jobrunner {
template <class Item, class Threading>
class Submitter;
} // namespace jobrunner

namespace jobrunner::detail {

using clock = std::chrono::steady_clock;

// An item on its way into the work queue, with its submission time (the
// clock's epoch unless the job has a queue-wait deadline): a message is
// built from it only when a send succeeds, so a failed try_send leaves the
// item where it was.
template <class Item>
struct stamped
{
  Item& item;
  clock::time_point at;
};

// Work messages are optional: Item need not be default-constructible. An
// empty message with an error is an end marker or a retry_due().
// `submitted`: when the item was submitted, with a queue-wait deadline
// (JobConfig::deadline.queue_wait, issue 14); else the clock's epoch.
template <class Item>
struct work_message : std::optional<Item>
{
  using std::optional<Item>::optional;
  work_message() = default;
  work_message(stamped<Item> s) : std::optional<Item>(std::move(s.item)), submitted(s.at) {}
  clock::time_point submitted{};
};

// What a worker receives when a retry is due: "take one from the retry queue".
inline error_code retry_due() noexcept
{
  return asio::error::try_again;
}

// What a worker receives when an item set aside by its key (JobConfig::per_key,
// issue 14) may go: "take one from the key area" (not try_again: that is
// would_block on Linux).
inline error_code key_due() noexcept
{
  return asio::error::in_progress;
}

// The input side of a job, which does not depend on the result type.
template <class Item, class Threading>
class job_core : public std::enable_shared_from_this<job_core<Item, Threading>>
{
public:
  using item_type = Item;
  using work_message_type = work_message<Item>;
  using work_channel = typename Threading::template channel<void(error_code, work_message<Item>)>;
  using producer_function = std::function<asio::awaitable<void>(Submitter<Item, Threading>&)>;

  job_core(asio::any_io_executor ex, const JobConfig& config)
      : open(config.items_come_back()), executor_(std::move(ex)), config_(config),
        work_(executor_, config.work_queue_capacity)
  {
    if (config.adaptive_concurrency.enabled)
      limit.emplace(config.workers, config.adaptive_concurrency);
    input_gate.set_on(executor_, [this] { return alive(); });
  }
  virtual ~job_core() = default;

  bool cancel_requested() const noexcept
  {
    return cancel_requested_.load(std::memory_order_acquire);
  }

  // Idempotent, any thread. The emits interrupt the members' operations.
  void request_cancel() noexcept
  {
    input_closed_.store(true, std::memory_order_seq_cst);
    if (cancel_requested_.exchange(true, std::memory_order_seq_cst))
      return;
    if (members.published())
      members.emit_all(alive());
    cancel_waits();
    input_gate.close(); // an open input refuses further adds
  }

  void publish_members() noexcept
  {
    members.publish(cancel_requested_, alive());
    if (drain_.requested()) // read after publishing, as the cancel flag is
      members.stop_producers(first_worker, alive());
  }

  // --- drain (issue 13 item 5) ---
  // Submits are refused once the job is cancelled or draining.
  bool input_closed() const noexcept { return input_closed_.load(std::memory_order_acquire); }
  bool drain_requested() const noexcept { return drain_.requested(); }
  std::optional<std::chrono::steady_clock::time_point> drain_deadline() const noexcept
  {
    return drain_.deadline();
  }

  // Keeps the job alive in a handler that may outlive its coroutines.
  std::shared_ptr<const void> alive() const noexcept { return this->shared_from_this(); }

  // Idempotent and safe from any thread: producers stop (each is cancelled
  // unless it is delivering an item), the workers go on; a grace period
  // (the earliest asked for) ends in a cancel (job_state's control).
  void request_drain(std::optional<std::chrono::nanoseconds> grace) noexcept
  {
    const auto change = drain_.request(grace, std::chrono::steady_clock::now());
    if (change.first)
    {
      input_closed_.store(true, std::memory_order_seq_cst);
      if (members.published())
        members.stop_producers(first_worker, alive());
      input_gate.close(); // an open input refuses further adds, as after close()
    }
    if (change.first || change.deadline)
      drain_changed();
  }

  // Wakes worker `w` (counted from 0) from a park.
  void wake_worker(std::size_t w) noexcept { members.wake(first_worker + w, alive()); }

  // Input is over: parked workers must come and take their end markers.
  void end_of_input() noexcept
  {
    if (limit)
      limit->end_of_input([this](std::size_t w) { wake_worker(w); });
  }

  // The order of taking, exact with ordered delivery (see receive_order).
  bool receive_pending() const noexcept { return config_.ordered_delivery && receives_.pending(); }
  void receive_started() noexcept { receives_.started(); }
  void receive_finished() noexcept { receives_.finished(); }

  // --- queue-wait deadline (issue 14) ---
  // An item submitted now, with its time only when a queue-wait deadline
  // needs it (one predictable branch per submit otherwise).
  stamped<Item> submission(Item& item) const noexcept
  {
    return {item, stamp_submissions_ ? clock::now() : clock::time_point{}};
  }

  const asio::any_io_executor& executor() const noexcept { return executor_; }
  const JobConfig& config() const noexcept { return config_; }
  work_channel& work() noexcept { return work_; }

  member_set members;
  std::size_t first_worker = 0; // producers come first among the members
  open_count open;
  input_counters<Threading::concurrent> input;
  producer_errors producer_failures;
  std::optional<policy::concurrency_limit> limit; // JobConfig::adaptive_concurrency
  std::vector<producer_function> producers;
  std::atomic<std::size_t> producers_left{0};
  open_input_state input_gate;      // JobRunner::open_input (issue 13)
  std::atomic<bool> gave_up{false}; // circuit breaker (issue 14): it ended the job

protected:
  // Ends the waits that are not members' operations (retries).
  virtual void cancel_waits() noexcept {}
  // A drain started or its grace deadline moved.
  virtual void drain_changed() noexcept {}
  policy::drain_request drain_;
  std::atomic<bool> input_closed_{false};
  std::atomic<bool> cancel_requested_{false};

public:
  // What the retry queue and the key area watch (policy_support.hpp).
  const std::atomic<bool>& cancel_flag() const noexcept { return cancel_requested_; }

private:
  asio::any_io_executor executor_;
  JobConfig config_;
  bool stamp_submissions_ = config_.deadline.queue_wait.count() > 0; // issue 14
  work_channel work_;
  receive_order<Threading::concurrent> receives_;
};

} // namespace jobrunner::detail

#endif
