# Builds TARGET in BUILD_DIR and passes only if that build fails with every
# message listed in EXPECT (a ;-separated list of regular expressions).
# Run as: cmake -DBUILD_DIR=... -DTARGET=... "-DEXPECT=a;b" -P expect_compile_error.cmake
execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must be rejected at compile time")
endif()
foreach(expected IN LISTS EXPECT)
  if(NOT output MATCHES "${expected}")
    message(FATAL_ERROR "${TARGET} failed to compile without the expected message '${expected}':\n${output}")
  endif()
endforeach()
message(STATUS "${TARGET} was rejected as expected")
