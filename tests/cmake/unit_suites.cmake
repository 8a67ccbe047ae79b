# Read by CTest (tests/CMakeLists.txt, TEST_INCLUDE_FILES): one CTest test
# per GoogleTest suite of each unit-test program (midge_base_unit_tests,
# midge_unit_tests), unit.<Suite>, running `<program> --gtest_filter=<Suite>.*`,
# labelled quick and full. The suites come from the lists written after
# the builds (list_unit_suites.cmake); the programs, their lists' paths and
# the environment from unit_suites_setup.cmake, generated at configure time.
set(midge_unit_programs ${MIDGE_UNIT_PROGRAMS})
while(midge_unit_programs)
  list(POP_FRONT midge_unit_programs program suites_file)
  get_filename_component(name "${program}" NAME)
  if(EXISTS "${suites_file}")
    file(STRINGS "${suites_file}" midge_unit_suites)
    foreach(suite IN LISTS midge_unit_suites)
      add_test("unit.${suite}" "${program}" "--gtest_filter=${suite}.*")
      set_tests_properties("unit.${suite}" PROPERTIES ENVIRONMENT "${MIDGE_UNIT_ENV}"
                           LABELS "quick;full" TIMEOUT 300)
    endforeach()
  else()
    # Not built (or the listing failed): a test that fails saying so.
    add_test("unit.NOT_BUILT.${name}" "${suites_file}-missing")
  endif()
endwhile()
