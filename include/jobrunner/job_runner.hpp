// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_JOB_RUNNER_HPP
#define JOBRUNNER_JOB_RUNNER_HPP

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/controller.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/policy_support.hpp>
#include <jobrunner/detail/producer.hpp>
#include <jobrunner/error.hpp>
#include <jobrunner/event.hpp>
#include <jobrunner/input.hpp>
#include <jobrunner/job_summary.hpp>
#include <jobrunner/result_stream.hpp>
#include <jobrunner/submitter.hpp>
#include <jobrunner/task_result.hpp>
#include <jobrunner/threading.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace jobrunner {

namespace detail {
template <class T>
struct is_awaitable : std::false_type
{};
template <class T, class Executor>
struct is_awaitable<asio::awaitable<T, Executor>> : std::true_type
{};

// The requirements on JobRunner's Item and Result, one class each so that a
// compiler error names the offending type ("in instantiation of
// item_requirements<T>"). A move that throws midway through a channel
// operation or a result record would lose the item (Asio's channels cannot
// recover from it), so moves must not throw.
template <class Item>
struct item_requirements
{
  static_assert(std::is_move_constructible_v<Item>,
                "jobrunner: the Item type of JobRunner<Item, Result> must be move-constructible");
  static_assert(std::is_nothrow_move_constructible_v<Item>,
                "jobrunner: the Item type of JobRunner<Item, Result> must be nothrow "
                "move-constructible: declare its move constructor noexcept, or submit "
                "std::unique_ptr<Item> instead");
  static constexpr bool value = true;
};

template <class Result>
struct result_requirements
{
  static_assert(std::is_void_v<Result> || std::is_move_constructible_v<Result>,
                "jobrunner: the Result type of JobRunner<Item, Result> must be void or "
                "move-constructible");
  static_assert(std::is_void_v<Result> || std::is_nothrow_move_constructible_v<Result>,
                "jobrunner: the Result type of JobRunner<Item, Result> must be nothrow "
                "move-constructible: declare its move constructor noexcept, or return "
                "std::unique_ptr<Result> instead");
  static constexpr bool value = true;
};

// std::function wants a copyable target; keep move-only callables behind a
// shared_ptr.
template <class F>
auto make_copyable(F&& f)
{
  using D = std::decay_t<F>;
  if constexpr (std::is_copy_constructible_v<D>)
    return D(std::forward<F>(f));
  else
    return [p = std::make_shared<D>(std::forward<F>(f))](auto&&... args) -> decltype(auto) {
      return (*p)(std::forward<decltype(args)>(args)...);
    };
}
} // namespace detail

/// Runs a function over many work items with bounded concurrency.
/**
 * Producers submit items into a bounded work queue; `JobConfig::workers`
 * worker coroutines run the function on them; each result goes through a
 * bounded result queue to one result handler, which invokes the
 * task-complete callback; the job-complete callback runs once, last.
 *
 * \tparam Item      the work item; nothrow move-constructible (need not be
 *                   copyable, assignable nor default-constructible). A type
 *                   whose move may throw is rejected at compile time: make its
 *                   move constructor `noexcept`, or use `std::unique_ptr<T>`.
 * \tparam Result    what the function returns; `void`, or nothrow
 *                   move-constructible like `Item` (move-only is fine).
 * \tparam Threading `single_threaded` (default) or `multi_threaded`.
 *
 * A runner runs one job. Configure it (producers, callbacks), then call
 * `async_run` (or `run`) once.
 *
 * *Thread safety*: `cancel()` and `stats()` may be called from any thread
 * at any time. The other members must not be called concurrently with each
 * other.
 *
 * *Lifetime*: the job's state is shared by its coroutines. Destroying the
 * runner while its job runs cancels the job; the job still ends normally
 * (every callback runs, the async_run handler is invoked).
 *
 * *Precondition*: the execution context of the executor (the `io_context`)
 * outlives the runner, as for any Asio I/O object: the runner's channels and
 * timers belong to it, and its destructor posts the cancellation there.
 * Destroy the runner before the `io_context` (declare it after); destroying
 * the `io_context` first is undefined behaviour.
 */
template <class Item, class Result, class Threading = single_threaded>
class JobRunner
{
  static_assert(detail::item_requirements<Item>::value);
  static_assert(detail::result_requirements<Result>::value);
  using state_type = detail::job_state<Item, Result, Threading>;

public:
  /// The item type.
  using item_type = Item;
  /// The result type (`void` allowed).
  using result_type = Result;
  /// The threading model: `single_threaded` or `multi_threaded`.
  using threading = Threading;
  /// What the task-complete callback receives.
  using task_result = TaskResult<Item, Result>;
  /// What a producer receives.
  using submitter_type = Submitter<Item, Threading>;
  /// What `open_input()` returns.
  using input_type = Input<Item, Threading>;
  /// What `results()` returns.
  using result_stream_type = ResultStream<Item, Result, Threading>;
  /// The executor the job runs on.
  using executor_type = asio::any_io_executor;

  /// Creates a runner whose coroutines run on `ex`.
  /**
   * `fn` is invoked as `fn(item)` with the item as an lvalue (`Item&`); it
   * returns either `asio::awaitable<Result>` (an asynchronous task) or a
   * value convertible to `Result` (a synchronous task, run inline by the
   * worker).
   *
   * *Errors*: throws `std::invalid_argument` if `config` is invalid or `fn`
   * is empty (a null function pointer or an empty `std::function`).
   */
  template <class Fn>
  JobRunner(executor_type ex, Fn&& fn, const JobConfig& config)
  {
    init(std::move(ex), std::forward<Fn>(fn), config);
    detail::enable_policies(*state_);
  }

  /// Creates a runner with the default JobConfig (no policy).
  /**
   * A runner made without a JobConfig cannot use a policy, so this
   * constructor does not compile their code: a translation unit that makes
   * its runners this way builds only the hot path (docs/design.md,
   * "Pay only for what you use").
   */
  template <class Fn>
  JobRunner(executor_type ex, Fn&& fn)
  {
    init(std::move(ex), std::forward<Fn>(fn), JobConfig{});
  }

  /// Creates a runner on `io`; this also enables the blocking `run()`.
  template <class Fn>
  JobRunner(asio::io_context& io, Fn&& fn, const JobConfig& config) : io_(&io)
  {
    init(io.get_executor(), std::forward<Fn>(fn), config);
    detail::enable_policies(*state_);
  }

  /// Creates a runner on `io` with the default JobConfig (no policy).
  template <class Fn>
  JobRunner(asio::io_context& io, Fn&& fn) : io_(&io)
  {
    init(io.get_executor(), std::forward<Fn>(fn), JobConfig{});
  }

  /// Moves the runner, with its job, if any.
  JobRunner(JobRunner&&) noexcept = default;
  /// Move assignment: a job `*this` was running is cancelled first, as by the destructor.
  JobRunner& operator=(JobRunner&& other) noexcept
  {
    if (this != &other)
    {
      cancel_if_running();
      state_ = std::move(other.state_);
      io_ = other.io_;
    }
    return *this;
  }
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  /// Cancels a job that is still running; see the class's *Lifetime* note.
  /// Precondition: the `io_context` still exists (see the class's *Precondition*).
  ~JobRunner() { cancel_if_running(); }

  /// Adds a producer coroutine: `producer(submitter_type&)` returning `asio::awaitable<void>`.
  /**
   * Input ends when the last producer returns. A producer that throws stops
   * only itself: its exception is counted in `JobSummary::producer_errors`.
   *
   * *Errors*: `std::logic_error` once `async_run` has been called (initiated).
   *
   * *Example*:
   * ```
   * runner.add_producer([](auto& out) -> asio::awaitable<void> {
   *   for (int i = 0; i < 10; ++i) co_await out.submit(i);
   * });
   * ```
   */
  template <class Producer>
  requires std::is_invocable_r_v < asio::awaitable<void>, std::decay_t<Producer>
  &, submitter_type& > JobRunner& add_producer(Producer&& producer)
  {
    check_not_started("add_producer", true);
    state_->producers.emplace_back(detail::make_copyable(std::forward<Producer>(producer)));
    return *this;
  }

  /// Adds a producer that submits each element of \`range\`, read lazily.
  /**
   * Any range a range-for loop accepts. Its elements are converted to
   * \`Item\` one per submit, so the input is never materialised. An lvalue
   * range is referenced (it must outlive the job); an rvalue range is moved
   * into the runner. The range is iterated on the producer's executor.
   *
   * *Example*: \`runner.add_range(cars);\` or
   * \`runner.add_range(std::views::iota(0, 1'000'000));\` (g++).
   */
  template <class Range>
  requires detail::iterable<std::remove_reference_t<Range>> && std::constructible_from<
      Item, decltype(*detail::adl::range_begin(std::declval<Range&>()))>
      JobRunner& add_range(Range&& range)
  {
    check_not_started("add_range", true);
    using stored = std::remove_reference_t<Range>;
    std::shared_ptr<stored> holder;
    if constexpr (std::is_lvalue_reference_v<Range>)
      holder = std::shared_ptr<stored>(std::shared_ptr<void>(), &range); // not owning
    else
      holder = std::make_shared<stored>(std::move(range));
    state_->producers.emplace_back(detail::make_range_producer<Item, Threading>(std::move(holder)));
    return *this;
  }

  /// Adds a producer that submits each element of \`[first, last)\`, read lazily.
  template <std::input_iterator It, std::sentinel_for<It> Sentinel>
  requires std::constructible_from<Item, std::iter_reference_t<It>> JobRunner&
  add_range(It first, Sentinel last)
  {
    return add_range(detail::iterator_range<It, Sentinel>{std::move(first), std::move(last)});
  }

  /// Sets the task-complete callback: `void(task_result&)`, once per submitted item.
  /**
   * Invoked by the result handler, never concurrently with another callback
   * of this job. (With `single_threaded`, unless results are reordered,
   * pulled, or end an input when idle, the worker that finished the task
   * runs the handler's step itself, on the job's one thread: the same
   * guarantees, one hand-over less; see docs/design.md, direct delivery.) An exception it throws is
   * caught and counted in `JobSummary::callback_errors`; later results still arrive.
   *
   * *Errors*: `std::logic_error` once `async_run` has been called (initiated).
   *
   * *Example*:
   * ```
   * runner.on_task_complete([&](auto& r) {
   *   if (r.ok()) total += *r.value;
   *   else log_failure(r.item, r.error);
   * });
   * ```
   */
  template <class Callback>
  requires std::is_invocable_v < std::decay_t<Callback>
  &, task_result& > JobRunner& on_task_complete(Callback&& callback)
  {
    check_not_started("on_task_complete");
    if (state_->puller.enabled())
      throw std::logic_error("jobrunner: on_task_complete after results(): a job's results go "
                             "either to the callback or to the puller");
    state_->on_task = detail::make_copyable(std::forward<Callback>(callback));
    return *this;
  }

  /// Opens the job's input to items added while it runs, from anywhere; see `Input`.
  /**
   * `rule` says when input ends: `input_end::on_close` (after
   * `Input::close()`) or `input_end::when_idle` (once every item added has
   * been delivered and nothing more was added: a crawler). Producers may be
   * added too; input ends when they are done as well.
   *
   * *Errors*: `std::logic_error` once `async_run` has been called, or if the
   * input is already open.
   *
   * *Example*:
   * ```
   * auto input = runner.open_input(jobrunner::input_end::when_idle);
   * std::string seed = "/";
   * input.try_add(seed);
   * runner.on_task_complete([&](auto& r) {
   *   for (auto& link : links_of(r)) if (!input.try_add(link)) ... // or async_add
   * });
   * ```
   */
  input_type open_input(input_end rule = input_end::on_close)
  {
    check_not_started("open_input");
    if (state_->input_gate.enabled())
      throw std::logic_error("jobrunner: open_input called twice");
    state_->input_gate.enable(rule);
    if (rule == input_end::when_idle)
      state_->open.count_until_delivered();
    return input_type(state_);
  }

  /// Delivers the results to a puller instead of the task-complete callback; see `ResultStream`.
  /**
   * *Errors*: `std::logic_error` once `async_run` has been called, or if a
   * task-complete callback is set (a result goes to one or the other).
   *
   * *Example*:
   * ```
   * auto results = runner.results();
   * runner.async_run(asio::detached);
   * while (auto r = co_await results.async_next(asio::use_awaitable)) use(*r);
   * ```
   */
  result_stream_type results()
  {
    check_not_started("results");
    if (state_->on_task)
      throw std::logic_error("jobrunner: results() with a task-complete callback: a job's "
                             "results go either to the callback or to the puller");
    state_->puller.enable(state_->executor());
    return result_stream_type(state_);
  }

  /// Sets which attempts `JobConfig::retry` retries: `bool(const task_result&)`.
  /**
   * Called by the worker after each attempt of an item that may still be
   * retried (attempts below `retry.max_attempts`, job not cancelled, not a
   * push-back). The result holds that attempt's outcome: `status`, `error`
   * (rethrow it to look at the exception type or error code), `value` (to
   * retry on a result, e.g. an HTTP 503 returned as a value) and `attempts`.
   * Returning true retries the item; its final result is what the
   * task-complete callback then sees. Without a predicate, attempts that
   * failed or timed out are retried (`jobrunner::default_retry_if`). A
   * predicate *replaces* that default: call `default_retry_if(r)` from yours
   * to keep retrying failures and timeouts. A predicate that throws means "no".
   *
   * *Thread safety*: with `multi_threaded` it may run on several threads at
   * once; it must not block.
   *
   * *Errors*: `std::logic_error` once `async_run` has been called (initiated).
   *
   * *Example*:
   * ```
   * runner.retry_if([](const auto& r) {
   *   try { if (r.error) std::rethrow_exception(r.error); }
   *   catch (const boost::system::system_error& e) { return e.code() != http::error::bad_target; }
   *   catch (...) { return false; }
   *   return r.ok() && r.value->status == 503;
   * });
   * ```
   */
  template <class Predicate>
  requires std::is_invocable_r_v < bool, std::decay_t<Predicate>
  &, const task_result& > JobRunner& retry_if(Predicate&& predicate)
  {
    check_not_started("retry_if");
    state_->retryable = detail::make_copyable(std::forward<Predicate>(predicate));
    return *this;
  }

  /// Sets which attempts the circuit breaker counts as failures (issue 14).
  /**
   * `bool(const TaskResult&)`, asked after each attempt (not a push-back,
   * not a cancelled one) when `JobConfig::circuit_breaker` is enabled. True:
   * a failure of the service; false: a success (the service answered, e.g.
   * an HTTP 404 for this item). Without a predicate, attempts that failed
   * or timed out are failures. A predicate that throws means "failure".
   * Same thread-safety rules as `retry_if`.
   *
   * *Errors*: `std::logic_error` once `async_run` has been called (initiated).
   */
  template <class Predicate>
  requires std::is_invocable_r_v < bool, std::decay_t<Predicate>
  &, const task_result& > JobRunner& breaker_failure_if(Predicate&& predicate)
  {
    check_not_started("breaker_failure_if");
    state_->breaker_failure = detail::make_copyable(std::forward<Predicate>(predicate));
    return *this;
  }

  /// Sets the key of `JobConfig::per_key` (issue 14): `std::string(const Item&)`.
  /**
   * Items with the same key share its limits (e.g. the host of a URL).
   * Called once per item taken by a worker (and again for each retry that
   * waited aside; while the key table is full, possibly several times, the
   * last call's key counting). Not called again for an attempt made under
   * the same key: a push-back's re-run, a retry that stays on its worker,
   * an item set aside for its key and released. Without a key function every item has the empty
   * key; a key function that throws gives the empty key. Unused unless `per_key.enabled`. Same
   * thread-safety rules as `retry_if`.
   *
   * *Errors*: `std::logic_error` once `async_run` has been called (initiated).
   */
  template <class KeyFunction>
  requires std::is_invocable_r_v < std::string, std::decay_t<KeyFunction>
  &, const Item& > JobRunner& key_by(KeyFunction&& key)
  {
    check_not_started("key_by");
    state_->key_fn = detail::make_copyable(std::forward<KeyFunction>(key));
    return *this;
  }

  /// Sets the job-complete callback: `void(const JobSummary&)`, exactly once, last.
  /**
   * Invoked after the last task-complete callback, when every coroutine of
   * the job has finished, just before `async_run` completes. If it throws,
   * `async_run` completes with `errc::job_complete_callback_failed`, also
   * when the job was cancelled or aborted (the callback's failure wins; the
   * summary's `status` still says how the job ended), and the summary's
   * `job_callback_error` holds the exception. `run()` then throws
   * `system_error`.
   *
   * *Errors*: `std::logic_error` once `async_run` has been called (initiated).
   *
   * *Example*:
   * ```
   * runner.on_job_complete([](const jobrunner::JobSummary& s) {
   *   std::printf("%llu failed, p99 %lld ns\n", (unsigned long long)s.failed,
   *               (long long)s.latency.p99.count());
   * });
   * ```
   */
  template <class Callback>
  requires std::is_invocable_v < std::decay_t<Callback>
  &, const JobSummary& > JobRunner& on_job_complete(Callback&& callback)
  {
    check_not_started("on_job_complete");
    state_->on_job = detail::make_copyable(std::forward<Callback>(callback));
    return *this;
  }

  /// Runs the job.
  /**
   * Starts the result handler, the workers and the producers, and completes
   * when every submitted item has been handled and every coroutine of the
   * job has finished.
   *
   * *Completion signature*: `void(boost::system::error_code, JobSummary)`.
   * - no error: the job completed (`summary.status == job_status::completed`);
   * - `asio::error::operation_aborted`: the job was cancelled; the summary
   *   is complete and says so;
   * - `errc::failure_budget_exceeded`: the job was aborted by
   *   `JobConfig::failure_budget`; the summary is complete and says so;
   * - with `JobConfig::fail_fast`, when an item failed
   *   (`summary.status == job_status::failed`): the code of the item's
   *   `boost::system::system_error`, `asio::error::timed_out` if it timed
   *   out, else `errc::task_failed`; `summary.first_failure` holds the
   *   exception;
   * - `errc::already_started`: this runner already ran a job (summary empty);
   * - `errc::job_complete_callback_failed`: the job-complete callback threw,
   *   whatever the job's status (this error wins over the two above); the
   *   summary is complete, its `job_callback_error` holds the exception;
   * - `errc::internal_error`: one of the runner's coroutines failed.
   *
   * *Executor*: the operation runs on the runner's executor (a strand of it
   * with `multi_threaded`); the handler is invoked through its associated
   * executor, as with any Asio operation.
   *
   * *Cancellation*: terminal cancellation through the token's bound
   * cancellation slot has the effect of `cancel()`.
   *
   * *Thread safety*: call it once, from one thread.
   *
   * *Example*:
   * ```
   * auto [ec, summary] = co_await runner.async_run(asio::as_tuple(asio::use_awaitable));
   * ```
   */
  template <
      asio::completion_token_for<void(error_code, JobSummary)> CompletionToken = asio::deferred_t>
  auto async_run(CompletionToken&& token = CompletionToken())
  {
    return asio::async_initiate<CompletionToken, void(error_code, JobSummary)>(
        [](auto handler, std::shared_ptr<state_type> state) {
          // From here on the job is configured: setters throw logic_error,
          // even before the controller's first step has run.
          state->launched.store(true, std::memory_order_release);
          auto ex = Threading::coroutine_executor(state->executor());
          asio::co_spawn(
              ex, detail::run_controller(std::move(state)),
              asio::deferred([](std::exception_ptr e, std::tuple<error_code, JobSummary> outcome) {
                auto& [ec, summary] = outcome;
                if (e)
                  ec = to_error_code(e);
                return asio::deferred.values(ec, std::move(summary));
              }))(std::move(handler));
        },
        token, state_);
  }

  /// Runs the job to its end, blocking: for simple `main`s.
  /**
   * Needs a runner constructed from an `io_context`: calls `async_run`, then
   * runs the `io_context` on `threads` threads (the calling one included)
   * until it runs out of work. `threads > 1` needs `multi_threaded`.
   *
   * *Returns* the summary, including for a job cancelled, aborted (failure
   * budget) or ended by the circuit breaker (check `summary.status`). A job stopped by
   * `JobConfig::fail_fast` rethrows the failed item's exception (`JobSummary::first_failure`).
   *
   * *Errors*: `std::logic_error` without an `io_context`,
   * `std::invalid_argument` for a bad `threads`, `boost::system::system_error`
   * for any other completion error.
   *
   * *Thread safety*: call it once, from one thread; it blocks that thread.
   *
   * *Example*: `auto summary = runner.run();`
   */
  JobSummary run(std::size_t threads = 1)
  {
    if (io_ == nullptr)
      throw std::logic_error("jobrunner: run() needs a JobRunner constructed from an io_context");
    if (threads == 0 || (threads > 1 && !Threading::concurrent))
      throw std::invalid_argument(
          "jobrunner: run(threads) needs threads >= 1, and threads == 1 with single_threaded");
    std::optional<std::tuple<error_code, JobSummary>> outcome;
    async_run(
        [&outcome](error_code ec, JobSummary summary) { outcome.emplace(ec, std::move(summary)); });
    io_->restart();
    // An exception from some other handler of the io_context leaves run() on
    // that thread; it is rethrown here once every thread has returned.
    std::vector<std::exception_ptr> errors(threads);
    auto run_thread = [this, &errors](std::size_t i) {
      try
      {
        io_->run();
      }
      catch (...)
      {
        errors[i] = std::current_exception();
        io_->stop();
      }
    };
    std::vector<std::thread> pool;
    for (std::size_t i = 1; i < threads; ++i)
      pool.emplace_back(run_thread, i);
    run_thread(0);
    for (auto& t : pool)
      t.join();
    for (auto& e : errors)
      if (e)
        std::rethrow_exception(e);
    if (!outcome)
      throw std::logic_error("jobrunner: the io_context stopped before the job ended");
    auto& [ec, summary] = *outcome;
    // Fail-fast: the failed item's own exception.
    if (summary.status == job_status::failed && summary.first_failure
        && ec != errc::job_complete_callback_failed)
      std::rethrow_exception(summary.first_failure);
    // A job cancelled, aborted or given up on still has a complete summary that says so.
    if (ec && ec != asio::error::operation_aborted && ec != errc::failure_budget_exceeded
        && ec != errc::service_unavailable)
      throw boost::system::system_error(ec, "jobrunner: run");
    return std::move(summary);
  }

  /// Cancels the job. Safe from any thread, at any time, any number of times.
  /**
   * Producers stop (a pending or later `submit` throws `operation_aborted`);
   * queued items are reported as cancelled without running; tasks in flight
   * receive terminal cancellation (their Asio operations end with
   * `operation_aborted`) and are reported as cancelled unless they still
   * return a value. Every submitted item still gets exactly one task-complete
   * call, then the job-complete callback runs. Before `async_run`: the job
   * will start cancelled and end at once. After the job ended: no effect.
   *
   * *Thread safety*: safe from any thread, concurrently with anything.
   *
   * *Example*: `std::signal`-style shutdown: `asio::signal_set` handler calls
   * `runner.cancel();`, and `async_run` completes with `operation_aborted`.
   */
  void cancel() noexcept
  {
    if (state_)
      state_->request_cancel();
  }

  // --- drain (issue 13 item 5) ----------------------------------------------

  /// Stops the input and lets the job finish what it has. Thread-safe, idempotent.
  /**
   * Producers stop: a later `submit` throws `operation_aborted` (the item is
   * not submitted), a `submit` waiting for room still delivers its item, and
   * a producer waiting on anything else (its own input) receives terminal
   * cancellation. Items already submitted (queued, in flight, waiting for a
   * retry) run as usual; then the job ends with `job_status::drained` and
   * `async_run` completes with **no error**. Unlike `cancel()`, nothing is
   * cancelled. Before `async_run`: the job starts drained and ends at once.
   * After the job ended: no effect. Later calls change nothing, except that
   * `drain(grace)` can bring the grace deadline earlier.
   *
   * *Thread safety*: safe from any thread, concurrently with anything, also
   * from a task or a callback.
   *
   * *Example*: first Ctrl-C drains, the second cancels:
   * ```
   * signals.async_wait([&](auto ec, int) { if (!ec) runner.drain(std::chrono::seconds(30)); ... });
   * ```
   */
  void drain() noexcept { request_drain(std::nullopt); }

  /// As `drain()`, and `grace` after this call, whatever is still running
  /// is cancelled as by `cancel()` (the job then ends `job_status::cancelled`,
  /// `async_run` completes with `operation_aborted`).
  void drain(std::chrono::nanoseconds grace) noexcept { request_drain(grace); }

  // --- events (issue 13 item 6) ------------------------------------------

  /// Sets the event hook: `void(const jobrunner::event&)`, called at each decision the runner
  /// makes.
  /**
   * Retries scheduled, push-back pauses started and ended, adaptive limit
   * changes, the drain, its grace expiry, fail-fast and failure-budget
   * stops (see `event_kind`). Called synchronously where the decision is
   * made: with `single_threaded` never concurrently with the job's other
   * callbacks; with `multi_threaded` possibly from several threads at once.
   * It must not block. An exception it throws is counted in
   * `JobSummary::event_errors`. Without a hook, nothing is built or called.
   *
   * *Errors*: `std::logic_error` once `async_run` has been called (initiated).
   *
   * *Example*:
   * ```
   * runner.on_event([](const jobrunner::event& e) {
   *   std::clog << e.kind << " item " << e.sequence << " value " << e.value << '\n';
   * });
   * ```
   */
  template <class Callback>
  requires std::is_invocable_v < std::decay_t<Callback>
  &, const event& > JobRunner& on_event(Callback&& callback)
  {
    check_not_started("on_event");
    state_->on_event = detail::make_copyable(std::forward<Callback>(callback));
    return *this;
  }

  /// A snapshot of the job's progress; safe from any thread. See `JobStats`.
  /**
   * *Example*: a progress line from a timer:
   * `auto st = runner.stats(); std::printf("%llu/%llu\r", st.done(), st.submitted);`
   */
  JobStats stats() const noexcept { return state_ ? state_->stats() : JobStats{}; }

  /// The executor the runner was created with.
  executor_type get_executor() const noexcept { return state_->executor(); }

  // Redis mode (a runner reads only as many items as it has room for):
  /// The configuration the runner was created with.
  const JobConfig& config() const noexcept { return state_->config(); }

private:
  template <class Fn>
  void init(executor_type ex, Fn&& fn, const JobConfig& config)
  {
    static_assert(std::is_invocable_v<std::decay_t<Fn>&, Item&>,
                  "jobrunner: the function must be callable as fn(Item&)");
    using returned = std::invoke_result_t<std::decay_t<Fn>&, Item&>;
    config.validate();
    state_ = std::make_shared<state_type>(std::move(ex), config);
    if constexpr (detail::is_awaitable<returned>::value)
    {
      static_assert(std::is_same_v<returned, asio::awaitable<Result>>,
                    "jobrunner: an asynchronous function must return asio::awaitable<Result>");
      state_->async_fn = detail::make_copyable(std::forward<Fn>(fn));
      if (!state_->async_fn)
        throw std::invalid_argument("jobrunner: the function is empty");
    }
    else
    {
      static_assert(std::is_void_v<Result> || std::is_convertible_v<returned, Result>,
                    "jobrunner: the function's result must convert to Result");
      state_->sync_fn = detail::make_copyable(std::forward<Fn>(fn));
      if (!state_->sync_fn)
        throw std::invalid_argument("jobrunner: the function is empty");
    }
  }

  // `adds_input`: add_range and add_producer; called while the job runs
  // (from a callback, say), the job completes with errc::input_added_after_start.
  void check_not_started(const char* what, bool adds_input = false) const
  {
    if (!state_->launched.load(std::memory_order_acquire))
      return;
    if (adds_input && state_->phase.load(std::memory_order_acquire) != 2)
      state_->input_gate.late_add.store(true, std::memory_order_release);
    throw std::logic_error(
        std::string("jobrunner: ") + what + " after the job started"
        + (adds_input ? ": use open_input() to add items to a running job" : ""));
  }

  void request_drain(std::optional<std::chrono::nanoseconds> grace) noexcept
  {
    if (state_ && state_->phase.load(std::memory_order_acquire) != 2)
      state_->request_drain(grace);
  }

  void cancel_if_running() noexcept
  {
    // Launched and not ended: running, or about to start (then it starts
    // cancelled and ends at once).
    if (state_ && state_->launched.load(std::memory_order_acquire)
        && state_->phase.load(std::memory_order_acquire) != 2)
      state_->request_cancel();
  }

  static error_code to_error_code(std::exception_ptr e) noexcept
  {
    try
    {
      std::rethrow_exception(e);
    }
    catch (const boost::system::system_error& se)
    {
      return se.code();
    }
    catch (const std::bad_alloc&)
    {
      return make_error_code(boost::system::errc::not_enough_memory);
    }
    catch (...)
    {
      return make_error_code(errc::internal_error);
    }
  }

  std::shared_ptr<state_type> state_;
  asio::io_context* io_ = nullptr;
};

} // namespace jobrunner

#endif
