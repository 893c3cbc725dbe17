# Warnings are errors in our own code (third-party headers are included as SYSTEM).
function(connector_strict_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough>
    $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Werror -Wshadow -Wformat=2 -Wstrict-prototypes>)
  # Two flow-sensitive warnings depend on what the optimiser inlines, and GCC 12 raises them inside
  # libstdc++ and RapidJSON at -O3 (false -Wrestrict in std::string: GCC bug 105329). They stay visible
  # as warnings, not errors, so that the same code builds at every optimisation level.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-Wno-error=restrict -Wno-error=null-dereference>)
  endif()
  # clang 14 flags RapidJSON's member iterators under C++20's reversed comparison rules.
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-ambiguous-reversed-operator>)
  endif()
endfunction()
