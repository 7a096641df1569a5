// Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
#ifndef JOBRUNNER_DETAIL_PRODUCER_HPP
#define JOBRUNNER_DETAIL_PRODUCER_HPP

// The producer role: runs one user producer, then reports its end. The last
// producer to end ends the input (see end_of_input.hpp).

#include <jobrunner/detail/asio.hpp>
#include <jobrunner/detail/coro_cancellation.hpp>
#include <jobrunner/detail/end_of_input.hpp>
#include <jobrunner/detail/job_state.hpp>
#include <jobrunner/submitter.hpp>

#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <utility>

namespace jobrunner::detail {

// The coroutine spawned for producer `index`.
template <class Item, class Threading>
asio::awaitable<void> run_producer(std::shared_ptr<job_core<Item, Threading>> job,
                                   std::size_t index)
{
  {
    Submitter<Item, Threading> out(*job, &job->members[index]);
    try
    {
      co_await job->producers[index](out);
    }
    catch (const boost::system::system_error& e)
    {
      // A submit refused because of the cancellation is the expected way
      // for a producer to stop, not an error.
      if (!(e.code() == asio::error::operation_aborted && job->input_closed()))
        job->producer_failures.record(std::current_exception());
    }
    catch (...)
    {
      job->producer_failures.record(std::current_exception());
    }
  }
  // On the producer's executor, with no suspension since the user's
  // producer returned: a drain's stop is not posted after this point, and
  // one that arrived before (or a cancel) is cleared.
  job->members[index].input_done = true;
  co_await asio::this_coro::reset_cancellation_state();
  co_await producer_finished(*job);
  co_await leave_cancelled_state_quietly();
}

// begin/end found as a range-for loop finds them (members, then ADL). Not
// std::ranges: clang 14 cannot compile libstdc++ 12's ranges::begin.
namespace adl {
using std::begin;
using std::end;
template <class Range>
auto range_begin(Range& r) -> decltype(begin(r))
{
  return begin(r);
}
template <class Range>
auto range_end(Range& r) -> decltype(end(r))
{
  return end(r);
}
} // namespace adl

template <class Range>
concept iterable = requires(Range& r)
{
  adl::range_begin(r) != adl::range_end(r);
  *adl::range_begin(r);
};

template <class It, class Sentinel>
struct iterator_range
{
  It first;
  Sentinel last;
  It begin() const { return first; }
  Sentinel end() const { return last; }
};

// A producer over a range that is read lazily, one element per submit.
// \`range\` owns the range, or (for an lvalue the user keeps) merely points to it.
template <class Item, class Threading, class Range>
auto make_range_producer(std::shared_ptr<Range> range)
{
  return [range](Submitter<Item, Threading>& out) -> asio::awaitable<void> {
    auto last = adl::range_end(*range);
    for (auto it = adl::range_begin(*range); it != last; ++it)
    {
      Item item(*it);
      if (!out.try_submit(item))
        co_await out.submit(std::move(item));
    }
  };
}

} // namespace jobrunner::detail

#endif
