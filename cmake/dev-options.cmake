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
