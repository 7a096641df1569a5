# Copyright (c) 2026 The jobrunner authors. SPDX-License-Identifier: BSL-1.0
# Checks which functions a compiled translation unit contains (design.md,
# "Pay only for what you use"):
#   cmake -DNM=nm -DOBJECT=x.o "-DPRESENT=a;b" "-DABSENT=c;d" -P check_symbols.cmake
# Fails if a PRESENT string is in no demangled symbol or an ABSENT one is in any.
execute_process(COMMAND "${NM}" -C "${OBJECT}" OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -C ${OBJECT} failed (${rc})")
endif()
foreach(s IN LISTS PRESENT)
  string(FIND "${symbols}" "${s}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${OBJECT}: no symbol contains '${s}': the check proves nothing")
  endif()
endforeach()
foreach(s IN LISTS ABSENT)
  string(FIND "${symbols}" "${s}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "${OBJECT}: a symbol contains '${s}', which this unit must not compile")
  endif()
endforeach()
message(STATUS "${OBJECT}: ${PRESENT} present; ${ABSENT} absent")
