# One warning set for everything this tree compiles (the SDK's own users get it from latchkey_add_plugin).
add_library(latchkey_warnings INTERFACE)
target_compile_options(latchkey_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
if(LATCHKEY_WERROR)
  target_compile_options(latchkey_warnings INTERFACE -Werror)
endif()
