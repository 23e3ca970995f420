option(CLIPCAER_WERROR "Treat compiler warnings as errors" OFF)

# Warnings for targets we compile (the INTERFACE library leaves flags to its users).
function(clipcaer_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra $<$<BOOL:${CLIPCAER_WERROR}>:-Werror>)
endfunction()
