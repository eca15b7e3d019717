# Warning flags shared by every OneGrid target.
add_library(onegrid_warnings INTERFACE)
target_compile_options(onegrid_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wcast-align -Wimplicit-fallthrough
  $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Woverloaded-virtual>
  $<$<BOOL:${ONEGRID_WERROR}>:-Werror>)
