# Fails unless the README's quick-start block is examples/01_quick_start/main.cpp,
# so that the code on the README's first screen is the code CI compiles and runs.
# Usage: cmake -DREADME=... -DEXAMPLE=... -P check-readme-snippet.cmake
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(REGEX MATCH "<!-- quick-start:begin -->\n```cpp\n(.*)```\n<!-- quick-start:end -->" _ "${readme}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "README.md has no quick-start block between the markers")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL example)
  message(FATAL_ERROR "README.md's quick-start block differs from ${EXAMPLE}: copy the file into the README")
endif()
