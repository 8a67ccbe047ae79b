# Read by CTest after the unit tests were discovered (tests/CMakeLists.txt):
# every unit test carries both cost labels, quick and full.
foreach(test IN LISTS midge_unit_tests_list)
  set_tests_properties("${test}" PROPERTIES LABELS "quick;full")
endforeach()
