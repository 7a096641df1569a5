# Flags for the project's own tests, examples and benchmarks; never put on
# the jobrunner target itself, so that users keep their own flags.
add_library(jobrunner_dev_options INTERFACE)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(jobrunner_dev_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough)
  if(JOBRUNNER_WERROR)
    target_compile_options(jobrunner_dev_options INTERFACE -Werror)
  endif()
endif()

if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 14)
  # g++ 14 at -O3 (Debian 13) reports the exception_ptr of a TaskResult as
  # maybe uninitialized where std::optional::emplace destroys the value of a
  # slot that reorder_buffer::push has just reset (so never engaged there):
  # a false positive, in job_runner_test.cpp only (a small program using the
  # same push does not warn).
  target_compile_options(jobrunner_dev_options INTERFACE -Wno-maybe-uninitialized)
endif()

if(JOBRUNNER_SANITIZE)
  set(_san "-fsanitize=${JOBRUNNER_SANITIZE}")
  target_compile_options(jobrunner_dev_options INTERFACE ${_san} -fno-omit-frame-pointer
    -fno-sanitize-recover=all
    # Freed coroutine frames go back to malloc, so use-after-free stays visible.
    -DBOOST_ASIO_DISABLE_AWAITABLE_FRAME_RECYCLING)
  target_link_options(jobrunner_dev_options INTERFACE ${_san})
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND JOBRUNNER_SANITIZE MATCHES "undefined")
    # clang 14: -fsanitize=function breaks Asio coroutine translation units.
    target_compile_options(jobrunner_dev_options INTERFACE -fno-sanitize=function)
    target_link_options(jobrunner_dev_options INTERFACE -fno-sanitize=function)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND JOBRUNNER_SANITIZE MATCHES "thread")
    # g++ 12 warns that TSan does not model Asio's atomic_thread_fence; and
    # with TSan's instrumentation it reports std::optional's move of a
    # disengaged value as maybe-uninitialized (a known false positive).
    target_compile_options(jobrunner_dev_options INTERFACE -Wno-tsan -Wno-maybe-uninitialized)
  endif()
endif()
