# Read by CTest (tests/CMakeLists.txt, TEST_INCLUDE_FILES): one CTest test
# per GoogleTest suite of midge_unit_tests, unit.<Suite>, running
# `midge_unit_tests --gtest_filter=<Suite>.*`, labelled quick and full.
# The suites come from the list written after the build
# (list_unit_suites.cmake); the binary, its environment and the list's path
# from unit_suites_setup.cmake, generated at configure time.
if(EXISTS "${MIDGE_UNIT_SUITES_FILE}")
  file(STRINGS "${MIDGE_UNIT_SUITES_FILE}" midge_unit_suites)
  foreach(suite IN LISTS midge_unit_suites)
    add_test("unit.${suite}" "${MIDGE_UNIT_BINARY}" "--gtest_filter=${suite}.*")
    set_tests_properties("unit.${suite}" PROPERTIES ENVIRONMENT "${MIDGE_UNIT_ENV}"
                         LABELS "quick;full" TIMEOUT 300)
  endforeach()
else()
  # Not built (or the listing failed): a test that fails saying so.
  add_test(unit.NOT_BUILT "${MIDGE_UNIT_SUITES_FILE}-missing")
endif()
