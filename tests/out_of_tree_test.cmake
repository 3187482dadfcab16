# Installs the SDK component alone into one scratch prefix and builds examples/out_of_tree_plugin
# against it (a plugin needs the SDK and nothing of the host), then installs everything into another
# prefix and checks that the installed runner lists the new plugin beside the installed ones.
set(work ${BINARY_DIR}/out_of_tree_test)
file(REMOVE_RECURSE ${work})
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${work}/sdk --component sdk)
if(EXISTS ${work}/sdk/bin/recgrid OR EXISTS ${work}/sdk/lib/librecgrid_host.so)
  message(FATAL_ERROR "the sdk install component holds host parts")
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/out_of_tree_plugin -B ${work}/build -G Ninja
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${work}/sdk)
run(${CMAKE_COMMAND} --build ${work}/build)
run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${work}/prefix)
# Only the new folder is named: the installed plugins are searched after it.
run(${work}/prefix/bin/recgrid plugins --plugin-dir ${work}/build/plugins)
if(NOT last_output MATCHES "mf 0.1.0 \\(base model\\)" OR NOT last_output MATCHES "lightgcn 1.0.0")
  message(FATAL_ERROR "the installed runner does not list the plugins:\n${last_output}")
endif()
message(STATUS "out-of-tree plugin loaded by the installed runner")
