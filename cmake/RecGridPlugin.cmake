# recgrid_add_plugin(<name> <sources>...)
#
# Builds one RecGrid plugin: a MODULE library with hidden visibility (its only export is the
# `recgrid_plugin_info` entry point made by RECGRID_EXPORT_PLUGIN), linked against recgrid_core,
# written to the plugin folder `recgrid` searches by default.
set(RECGRID_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(recgrid_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIR" "" ${ARGN})
  set(sources ${ARG_UNPARSED_ARGUMENTS})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${RECGRID_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(${name} MODULE ${sources})
  if(TARGET recgrid_core)
    target_link_libraries(${name} PRIVATE recgrid_core)
    target_compile_options(${name} PRIVATE -Wall -Wextra)  # our own plugins; out-of-tree ones pick their flags
  else()
    target_link_libraries(${name} PRIVATE RecGrid::recgrid_core)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    INSTALL_RPATH "$ORIGIN/../..")
  # Only the entry point leaves the library, not even template instantiations of the standard library.
  target_link_options(${name} PRIVATE "-Wl,--version-script=${RECGRID_CMAKE_DIR}/plugin_exports.map")
  if(TARGET recgrid_core AND NOT RECGRID_SKIP_INSTALL)  # in the RecGrid tree: install beside the runner's default plugin folder
    install(TARGETS ${name} LIBRARY DESTINATION lib/recgrid/plugins)
  endif()
endfunction()
