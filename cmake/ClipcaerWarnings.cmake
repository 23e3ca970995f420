option(CLIPCAER_WERROR "Treat compiler warnings as errors" OFF)

# Warnings for targets we compile (the INTERFACE library leaves flags to its users).
function(clipcaer_warnings target)
  # C and C++ only: nvcc takes host-compiler warnings through -Xcompiler (ClipcaerRuntime.cmake).
  target_compile_options(${target} PRIVATE
    "$<$<COMPILE_LANGUAGE:C,CXX>:-Wall;-Wextra;$<$<BOOL:${CLIPCAER_WERROR}>:-Werror>>")
endfunction()
