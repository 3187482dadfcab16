# recgrid_add_plugin(<name> [SOURCES] <sources>... [TESTS <test sources>...] [OUTPUT_DIR <dir>])
#
# Builds one RecGrid plugin: a MODULE library with hidden visibility (its only export is the
# `recgrid_plugin_info` entry point made by RECGRID_EXPORT_PLUGIN), linked against the plugin SDK
# (recgrid_sdk) alone - a host header is not on its include path - and written to the plugin folder
# `recgrid` searches by default. In the RecGrid tree, TESTS adds GoogleTest sources to the test suite
# (which then also waits for the plugin to build): one line per plugin, nothing else to edit.
set(RECGRID_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(recgrid_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "SOURCES;TESTS" ${ARGN})
  set(sources ${ARG_SOURCES} ${ARG_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "recgrid_add_plugin(${name}): no source files")
  endif()
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${RECGRID_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(${name} MODULE ${sources})
  if(TARGET recgrid_sdk)  # in the RecGrid tree
    target_link_libraries(${name} PRIVATE recgrid_sdk)
    target_compile_options(${name} PRIVATE -Wall -Wextra)  # our own plugins; out-of-tree ones pick their flags
    set_property(GLOBAL APPEND PROPERTY RECGRID_PLUGIN_TARGETS ${name})
    foreach(test_source ${ARG_TESTS})
      get_filename_component(test_source ${test_source} ABSOLUTE)
      set_property(GLOBAL APPEND PROPERTY RECGRID_PLUGIN_TEST_SOURCES ${test_source})
    endforeach()
  else()
    target_link_libraries(${name} PRIVATE RecGrid::recgrid_sdk)
    if(ARG_TESTS)
      message(WARNING "recgrid_add_plugin(${name}): TESTS are built only in the RecGrid tree; build your own test target")
    endif()
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    INSTALL_RPATH "$ORIGIN/../..")
  # Only the entry point leaves the library, not even template instantiations of the standard library.
  target_link_options(${name} PRIVATE "-Wl,--version-script=${RECGRID_CMAKE_DIR}/plugin_exports.map")
  if(TARGET recgrid_sdk AND NOT RECGRID_SKIP_INSTALL)  # in the RecGrid tree: install beside the runner's default plugin folder
    install(TARGETS ${name} LIBRARY DESTINATION lib/recgrid/plugins COMPONENT runtime)
  endif()
endfunction()
