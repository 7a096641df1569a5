// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_RESULT_HANDLER_HPP
#define JOBRUNNER_DETAIL_RESULT_HANDLER_HPP

// The result-handler role: the one coroutine that drains the result channel,
// counts each result and invokes the task-complete callback. Being a single
// coroutine, it never runs two callbacks at once. No signal is bound to it: it
// stops at the end marker the last worker sends, after every result.
// Policies before delivery: the reorder buffer (ordered delivery) and the
// failure budget. With pulled results (result_puller.hpp) it hands each
// result to the consumer instead of the callback; with an open input ending
// when idle (open_input.hpp) it releases each item after its callback.
// With direct delivery (delivery.hpp: single_threaded, none of those) the
// workers deliver, and the handler only waits for the end marker.

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/delivery.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/detail/policy/reorder.hpp>
#include <jobrunner/task_result.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace jobrunner::detail {

// Pulled results with ordered delivery: hand the results the reorder buffer
// released to the consumer, one pull each.
template <class State>
asio::awaitable<void> pull_ready(State& job, std::vector<typename State::task_result>& ready)
{
  for (auto& r : ready)
  {
    typename State::result_message m(std::move(r));
    co_await job.puller.get().async_send(error_code{}, std::move(m), asio::deferred);
  }
  ready.clear();
}

// input_end::when_idle: `count` items were delivered; the one that brings
// open_count to zero ends the input.
template <class State>
asio::awaitable<void> release_delivered(State& job, std::size_t count)
{
  for (std::size_t i = 0; i < count; ++i)
    if (job.open.release())
      co_await send_end_markers(job, job.config().workers);
}

// Ordered: with JobConfig::ordered_delivery (reached only through
// policy_support.hpp, so an unconfigured job never compiles the reorder path).
template <bool Ordered, class Item, class Result, class Threading>
asio::awaitable<void> run_result_handler(std::shared_ptr<job_state<Item, Result, Threading>> job)
{
  using state = job_state<Item, Result, Threading>;
  using result_message = typename state::result_message;
  auto& results = job->results();
  auto deliver_one = [&job](typename state::task_result& r) { deliver(*job, r); };
  const bool pull = job->puller.enabled();
  const bool releases = !pull && job->open.result_side_releases();
  [[maybe_unused]] std::vector<typename state::task_result> ready; // pull with ordered delivery
  [[maybe_unused]] auto hand_over = [&](typename state::task_result& r) {
    deliver_one(r);
    if (pull)
      ready.push_back(std::move(r));
  };
  [[maybe_unused]] auto reorder = [&] {
    if constexpr (Ordered)
      return policy::reorder_buffer<typename state::task_result>(job->config().window());
    else
      return nullptr;
  }();

  for (;;)
  {
    // Emplaced, never assigned: Item and Result need only be move-constructible.
    result_message record;
    error_code ec;
    if (!results.try_receive(record, ec))
      ec = std::get<0>(co_await results.async_receive(record, asio::as_tuple(asio::deferred)));
    if (ec) // the end marker: every worker has finished
      break;
    std::size_t delivered = 1;
    if constexpr (!Ordered)
    {
      deliver_one(*record);
      if (pull) // the consumer's turn: wait for its pull
        co_await job->puller.get().async_send(error_code{}, std::move(record), asio::deferred);
    }
    else
    {
      const auto before = reorder.next();
      reorder.push(std::move(*record), hand_over);
      delivered = static_cast<std::size_t>(reorder.next() - before);
      if (!ready.empty()) // before the window moves on: these still count in it
        co_await pull_ready(*job, ready);
      if (delivered != 0)
        job->window_delivered(reorder.next());
    }
    if (releases)
      co_await release_delivered(*job, delivered);
  }
  if constexpr (Ordered)
  {
    reorder.flush(hand_over);
    if (!ready.empty())
      co_await pull_ready(*job, ready);
  }
  if (pull)
    job->puller.get().close(); // pulls now complete with the end of the job
}

} // namespace jobrunner::detail

#endif
