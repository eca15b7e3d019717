# Warning flags shared by every OneGrid target.
add_library(onegrid_warnings INTERFACE)
target_compile_options(onegrid_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough
  $<$<BOOL:${ONEGRID_WERROR}>:-Werror>)
