# Run after a unit-test program is built (tests/CMakeLists.txt, POST_BUILD):
# writes the binary's GoogleTest suites, one per line, to OUT, for
# unit_suites.cmake, except the suites in EXCLUDE (a list), which a test of
# their own runs (TorchvisionParity: integration.torchvision_parity, which
# exports the models first).
# usage: cmake -DBINARY=... -DOUT=... [-DEXCLUDE=Suite;...] -P list_unit_suites.cmake
execute_process(COMMAND "${BINARY}" --gtest_list_tests
                OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE rc
                TIMEOUT 60)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}")
  message(FATAL_ERROR "${BINARY} --gtest_list_tests failed (${rc}): ${errors}")
endif()
# Suites are the lines that do not start with a space: "Suite." or, for a
# parameterised suite, "Prefix/Suite.  # TypeParam = ...".
string(REPLACE "\n" ";" lines "${listing}")
set(suites "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ #][^ ]*)\\.")
    set(suite "${CMAKE_MATCH_1}")
    list(FIND EXCLUDE "${suite}" excluded)
    if(excluded EQUAL -1)
      string(APPEND suites "${suite}\n")
    endif()
  endif()
endforeach()
if(suites STREQUAL "")
  file(REMOVE "${OUT}")
  message(FATAL_ERROR "${BINARY} lists no test suites")
endif()
file(WRITE "${OUT}" "${suites}")
