# latchkey_add_storage_conformance(<name> PLUGIN <target> FACETS <facet-id>...
#                                  [SETTINGS <key=value>...])
#
# Builds the storage conformance suite (installed with the SDK) against the storage driver
# <target> and registers it as the test <name> (run it with ctest). FACETS are the facet ids the
# driver implements ("latchkey.storage.users", ...): the suite checks it has them, runs every
# section whose facets it has, and skips the others with a warning. SETTINGS are the driver's
# config node, one key=value each (no commas); "{dir}" in a value is a fresh directory per
# store. Needs Catch2 2.x (Debian: catch2).
function(latchkey_add_storage_conformance name)
  cmake_parse_arguments(ARG "" "PLUGIN" "FACETS;SETTINGS" ${ARGN})
  if(NOT ARG_PLUGIN OR NOT ARG_FACETS)
    message(FATAL_ERROR "latchkey_add_storage_conformance(${name}): PLUGIN and FACETS are required")
  endif()
  if(NOT DEFINED LATCHKEY_CONFORMANCE_DIR)
    message(FATAL_ERROR "latchkey_add_storage_conformance(${name}): LATCHKEY_CONFORMANCE_DIR is "
                        "not set (find_package(Latchkey) sets it)")
  endif()
  find_package(Catch2 2 REQUIRED)
  find_package(Threads REQUIRED)
  add_executable(${name}
    "${LATCHKEY_CONFORMANCE_DIR}/storage_conformance.cpp"
    "${LATCHKEY_CONFORMANCE_DIR}/installed_runner.cpp")
  target_include_directories(${name} PRIVATE "${LATCHKEY_CONFORMANCE_DIR}")
  target_link_libraries(${name} PRIVATE Latchkey::sdk Catch2::Catch2 Threads::Threads
                        ${CMAKE_DL_LIBS})
  target_compile_definitions(${name} PRIVATE _GLIBCXX_USE_CXX11_ABI=1)
  set_target_properties(${name} PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON)
  add_dependencies(${name} ${ARG_PLUGIN})
  list(JOIN ARG_FACETS "," facets)
  list(JOIN ARG_SETTINGS "," settings)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT
    "LATCHKEY_CONFORMANCE_PLUGIN=$<TARGET_FILE:${ARG_PLUGIN}>;LATCHKEY_CONFORMANCE_SETTINGS=${settings};LATCHKEY_CONFORMANCE_FACETS=${facets}")
endfunction()
