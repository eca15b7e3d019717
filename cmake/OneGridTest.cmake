find_package(GTest REQUIRED)
include(GoogleTest)

# onegrid_add_test(NAME SOURCES... LIBS... LABELS...)
# Registers one GoogleTest binary; every test case becomes a ctest entry carrying LABELS.
function(onegrid_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock onegrid_warnings onegrid_allocator)
  target_compile_definitions(${name} PRIVATE
    ONEGRID_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    ONEGRID_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures"
    ONEGRID_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} PROPERTIES LABELS "${T_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
