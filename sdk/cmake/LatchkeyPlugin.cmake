# latchkey_add_plugin(<name> SOURCES <files...> [LIBRARIES <targets...>] [NO_INSTALL])
#
# Builds a Latchkey plugin as a MODULE library named <name>.so: hidden visibility (only the
# LATCHKEY_PLUGIN entry points are exported), linked with -z defs so a missing symbol fails the
# build rather than the load, unloadable (no GNU unique symbols), the C++11 library ABI, and
# installed into LATCHKEY_PLUGIN_INSTALL_DIR (lib/latchkey/plugins under the install prefix).
# Used both inside the Latchkey tree and by out-of-tree plugins after find_package(Latchkey).
function(latchkey_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "latchkey_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Latchkey::sdk ${ARG_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON)
  target_link_options(${name} PRIVATE "LINKER:-z,defs")
  # GCC marks some template statics (even libstdc++'s) STB_GNU_UNIQUE, which makes a library
  # impossible to unload; plugins must unload when the host lets go of them.
  target_compile_options(${name} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-fno-gnu-unique>)
  # The C++11 std::string/std::list ABI of libstdc++, as the host uses: some toolchains (old
  # devtoolsets) default to the other one, and the loader would refuse the plugin.
  target_compile_definitions(${name} PRIVATE _GLIBCXX_USE_CXX11_ABI=1)
  if(DEFINED LATCHKEY_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${LATCHKEY_PLUGIN_OUTPUT_DIR}")
  endif()
  if(NOT ARG_NO_INSTALL)
    if(NOT DEFINED LATCHKEY_PLUGIN_INSTALL_DIR)
      message(FATAL_ERROR "latchkey_add_plugin(${name}): LATCHKEY_PLUGIN_INSTALL_DIR is not set "
                          "(find_package(Latchkey) sets it; or pass NO_INSTALL)")
    endif()
    install(TARGETS ${name} LIBRARY DESTINATION "${LATCHKEY_PLUGIN_INSTALL_DIR}")
  endif()
endfunction()
