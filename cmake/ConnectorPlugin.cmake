# connector_add_plugin(<target> SOURCES <files...> [OUTPUT_DIR <dir>] [NO_VERSION_SCRIPT])
#
# Builds a connector plugin: a shared library with no "lib" prefix, hidden visibility, and a linker
# version script so that it exports exactly one symbol, connector_plugin_entry. Installed with the
# connector ABI's CMake package, so third-party plugins use the same rules.
set(_CONNECTOR_PLUGIN_MODULE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(connector_add_plugin target)
  cmake_parse_arguments(ARG "NO_VERSION_SCRIPT" "OUTPUT_DIR" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(ARG_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  elseif(DEFINED CONNECTOR_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CONNECTOR_PLUGIN_OUTPUT_DIR})
  endif()
  if(TARGET connector::abi)
    target_link_libraries(${target} PRIVATE connector::abi)
  endif()
  if(NOT ARG_NO_VERSION_SCRIPT AND NOT WIN32 AND NOT APPLE)
    set(_map ${_CONNECTOR_PLUGIN_MODULE_DIR}/connector_plugin.map)
    target_link_options(${target} PRIVATE "LINKER:--version-script=${_map}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${_map})
  endif()
endfunction()
