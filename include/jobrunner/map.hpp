// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_MAP_HPP
#define JOBRUNNER_MAP_HPP

// One call for the common case: run a function over a range with bounded
// concurrency (a JobRunner underneath) and get the results back in input
// order (async_map, map), or just the summary (async_for_each, for_each).

#include <jobrunner/config.hpp>
#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/producer.hpp>
#include <jobrunner/job_runner.hpp>
#include <jobrunner/job_summary.hpp>
#include <jobrunner/task_result.hpp>

#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace jobrunner {
namespace detail {

template <class Range>
using range_item_t = std::remove_cvref_t<decltype(*adl::range_begin(std::declval<Range&>()))>;

template <class R>
struct task_value
{
  using type = R;
};
template <class R, class Executor>
struct task_value<asio::awaitable<R, Executor>>
{
  using type = R;
};
// What `fn(item)` produces: R for a synchronous function, and for one returning awaitable<R>.
template <class Fn, class Item>
using map_result_t = typename task_value<std::invoke_result_t<Fn&, Item&>>::type;

// A range owned (rvalue) or referenced (lvalue, which must outlive the job).
template <class Range>
auto hold_range(Range&& range)
{
  using stored = std::remove_reference_t<Range>;
  if constexpr (std::is_lvalue_reference_v<Range>)
    return std::shared_ptr<stored>(std::shared_ptr<void>(), &range);
  else
    return std::make_shared<stored>(std::move(range));
}

template <class Item>
struct indexed
{
  std::size_t index;
  Item item;
};

// The job behind async_map: items carry their input position, and each
// result lands in its slot.
template <class Item, class Result>
struct map_job
{
  using runner_type = JobRunner<indexed<Item>, Result>;
  using result_type = TaskResult<Item, Result>;

  // `Owned`: the range was moved in, so its elements may be moved out (move-only items).
  template <bool Owned, class Fn, class Holder>
  map_job(std::bool_constant<Owned>, const asio::any_io_executor& ex, Fn fn,
          const JobConfig& config, Holder range)
      : runner(
          ex, [f = std::make_shared<Fn>(std::move(fn))](indexed<Item>& x) { return (*f)(x.item); },
          config)
  {
    runner.add_producer([range](auto& out) -> asio::awaitable<void> {
      std::size_t index = 0;
      auto last = adl::range_end(*range);
      for (auto it = adl::range_begin(*range); it != last; ++it)
      {
        indexed<Item> item{index++, element<Owned>(*it)};
        if (!out.try_submit(item))
          co_await out.submit(std::move(item));
      }
    });
    runner.on_task_complete([this](typename runner_type::task_result& r) {
      const auto i = r.item.index;
      if (i >= slots.size())
        slots.resize(i + 1);
      auto& slot = slots[i].emplace(std::move(r.item.item));
      slot.value = std::move(r.value);
      slot.error = std::move(r.error);
      slot.status = r.status;
      slot.duration = r.duration;
      slot.attempts = r.attempts;
      slot.pushbacks = r.pushbacks;
      slot.sequence = r.sequence;
    });
  }

  template <bool Owned, class Element>
  static Item element(Element&& e)
  {
    if constexpr (Owned)
      return Item(std::move(e));
    else
      return Item(e);
  }

  std::vector<result_type> take()
  {
    std::vector<result_type> out;
    out.reserve(slots.size());
    for (auto& s : slots)
      if (s)
        out.push_back(std::move(*s));
    return out;
  }

  runner_type runner;
  std::vector<std::optional<result_type>> slots;
};

template <class T>
concept not_config = !std::same_as<std::remove_cvref_t<T>, JobConfig>;

} // namespace detail

/// Runs `fn` over every element of `range` and completes with the results in input order.
/**
 * A `JobRunner` underneath (`single_threaded`, on `ex`): `config` sets the
 * workers, queues and policies; `fn(item)` returns `R` or
 * `asio::awaitable<R>` (as for `JobRunner`), with `item` an lvalue of the
 * range's value type. The range is read lazily, as by `add_range`: an lvalue
 * range is referenced (it must outlive the operation), an rvalue is moved in.
 *
 * *Completion signature*:
 * `void(boost::system::error_code, std::vector<TaskResult<Item, R>>)`, one
 * result per element in input order, each with its `status`, `value` or
 * `error`. The error code is `async_run`'s: none (every task ran; check
 * each status), `operation_aborted` (cancelled: the items that were
 * submitted are there, reported `cancelled` if they did not run; the vector
 * stops at the last submitted one), `errc::failure_budget_exceeded`.
 *
 * *Cancellation*: terminal cancellation through the token's slot cancels the job.
 *
 * *Memory*: all results are kept until the end (use `async_for_each` or a
 * `JobRunner` to keep nothing).
 *
 * *Example*:
 * `auto [ec, squares] = co_await jobrunner::async_map(ex, v, [](int& x) { return x * x; },
 *                                                    asio::as_tuple(asio::use_awaitable));`
 */
template <class Range, class Fn, class CompletionToken = asio::deferred_t>
auto async_map(const asio::any_io_executor& ex, Range&& range, Fn fn, const JobConfig& config,
               CompletionToken&& token = CompletionToken())
{
  using Item = detail::range_item_t<Range>;
  using Result = detail::map_result_t<Fn, Item>;
  using job_type = detail::map_job<Item, Result>;
  using results = std::vector<TaskResult<Item, Result>>;
  auto job = std::make_shared<job_type>(std::bool_constant<!std::is_lvalue_reference_v<Range>>{},
                                        ex, std::move(fn), config,
                                        detail::hold_range(std::forward<Range>(range)));
  return asio::async_initiate<CompletionToken, void(error_code, results)>(
      [](auto handler, std::shared_ptr<job_type> j) {
        auto& runner = j->runner;
        runner.async_run(asio::deferred([j](error_code ec, JobSummary) {
          return asio::deferred.values(ec, j->take());
        }))(std::move(handler));
      },
      token, std::move(job));
}

/// `async_map` with the default `JobConfig`.
template <class Range, class Fn, detail::not_config CompletionToken = asio::deferred_t>
auto async_map(const asio::any_io_executor& ex, Range&& range, Fn fn,
               CompletionToken&& token = CompletionToken())
{
  return async_map(ex, std::forward<Range>(range), std::move(fn), JobConfig{},
                   std::forward<CompletionToken>(token));
}

/// Runs `fn` over every element of `range`, keeping no result: completes with the summary.
/**
 * As `async_map`, but nothing is kept: *completion signature*
 * `void(boost::system::error_code, JobSummary)`, the error code as for
 * `JobRunner::async_run`. The summary counts the outcomes.
 */
template <class Range, class Fn, class CompletionToken = asio::deferred_t>
auto async_for_each(const asio::any_io_executor& ex, Range&& range, Fn fn, const JobConfig& config,
                    CompletionToken&& token = CompletionToken())
{
  using Item = detail::range_item_t<Range>;
  using runner_type = JobRunner<Item, detail::map_result_t<Fn, Item>>;
  auto runner = std::make_shared<runner_type>(ex, std::move(fn), config);
  runner->add_range(std::forward<Range>(range));
  return asio::async_initiate<CompletionToken, void(error_code, JobSummary)>(
      [](auto handler, std::shared_ptr<runner_type> r) {
        auto& self = *r;
        self.async_run(asio::deferred([r](error_code ec, JobSummary s) {
          return asio::deferred.values(ec, std::move(s));
        }))(std::move(handler));
      },
      token, std::move(runner));
}

/// `async_for_each` with the default `JobConfig`.
template <class Range, class Fn, detail::not_config CompletionToken = asio::deferred_t>
auto async_for_each(const asio::any_io_executor& ex, Range&& range, Fn fn,
                    CompletionToken&& token = CompletionToken())
{
  return async_for_each(ex, std::forward<Range>(range), std::move(fn), JobConfig{},
                        std::forward<CompletionToken>(token));
}

namespace detail {
// Runs `io` until `op` has completed; rethrows an error other than cancellation.
template <class Value, class Start>
Value run_blocking(asio::io_context& io, Start start)
{
  std::optional<std::tuple<error_code, Value>> outcome;
  start([&outcome](error_code ec, Value v) { outcome.emplace(ec, std::move(v)); });
  io.restart();
  io.run();
  if (!outcome)
    throw std::logic_error("jobrunner: the io_context stopped before the job ended");
  auto& [ec, value] = *outcome;
  if (ec && ec != asio::error::operation_aborted)
    throw boost::system::system_error(ec, "jobrunner");
  return std::move(value);
}
} // namespace detail

/// Blocking `async_map`: runs `io` on the calling thread until the job ends.
/**
 * *Returns* the results in input order. *Errors*: `boost::system::system_error`
 * for a completion error other than cancellation.
 * *Example*: `auto squares = jobrunner::map(io, v, [](int& x) { return x * x; });`
 */
template <class Range, class Fn>
auto map(asio::io_context& io, Range&& range, Fn fn, const JobConfig& config = {})
{
  using Item = detail::range_item_t<Range>;
  using results = std::vector<TaskResult<Item, detail::map_result_t<Fn, Item>>>;
  return detail::run_blocking<results>(io, [&](auto handler) {
    async_map(io.get_executor(), std::forward<Range>(range), std::move(fn), config,
              std::move(handler));
  });
}

/// Blocking `map` on an `io_context` of its own.
template <class Range, class Fn>
auto map(Range&& range, Fn fn, const JobConfig& config = {})
{
  asio::io_context io;
  return map(io, std::forward<Range>(range), std::move(fn), config);
}

/// Blocking `async_for_each`: runs `io` on the calling thread; returns the summary.
template <class Range, class Fn>
JobSummary for_each(asio::io_context& io, Range&& range, Fn fn, const JobConfig& config = {})
{
  return detail::run_blocking<JobSummary>(io, [&](auto handler) {
    async_for_each(io.get_executor(), std::forward<Range>(range), std::move(fn), config,
                   std::move(handler));
  });
}

} // namespace jobrunner

#endif
