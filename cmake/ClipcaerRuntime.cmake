# clipcaer::runtime — the kernel tables, one translation unit per instruction
# set, each compiled with its own flags and picked at run time. Everything we
# ship (CLI, Python module, C library, tests) links it, so one binary runs on
# AVX2 and AVX-512 CPUs.
set(_rt_dir ${CMAKE_CURRENT_LIST_DIR}/../src)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_rt_sources ${_rt_dir}/kernels_baseline.cpp ${_rt_dir}/kernels_avx2.cpp ${_rt_dir}/kernels_avx2_vnni.cpp
    ${_rt_dir}/kernels_avx512.cpp ${_rt_dir}/kernels_avx512_vnni.cpp
    ${_rt_dir}/kernels_avx512_bf16.cpp ${_rt_dir}/kernels_avx512_amx.cpp)
  set_source_files_properties(${_rt_dir}/kernels_avx2.cpp PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
  # No -mavx512vl: 128/256-bit code in this TU then stays VEX-encoded (runs on AVX2 CPUs).
  # GCC 12 warns inside its own avx512fintrin.h (_mm512_undefined_ps/_epi32 self-init);
  # clang knows no -Wmaybe-uninitialized.
  set(_gcc_quiet "$<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>;$<$<CXX_COMPILER_ID:GNU>:-Wno-uninitialized>")
  set_source_files_properties(${_rt_dir}/kernels_avx512.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512dq;-mavx2;-mfma;-mf16c;${_gcc_quiet}")
  # Compilers without these flags (GCC < 11) build the four tables empty: their
  # factories return null and dispatch skips them.
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag("-mavxvnni" CLIPCAER_CXX_HAS_AVXVNNI)
  if(CLIPCAER_CXX_HAS_AVXVNNI)
    set_source_files_properties(${_rt_dir}/kernels_avx2_vnni.cpp PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavxvnni")
  endif()
  check_cxx_compiler_flag("-mavx512bf16 -mavx512vnni" CLIPCAER_CXX_HAS_AVX512_BF16)
  check_cxx_compiler_flag("-mamx-tile -mamx-bf16 -mamx-int8" CLIPCAER_CXX_HAS_AMX)
  set(_avx512 "-mavx512f;-mavx512bw;-mavx512dq;-mavx2;-mfma;-mf16c;${_gcc_quiet}")
  check_cxx_compiler_flag("-mavx512vnni" CLIPCAER_CXX_HAS_AVX512_VNNI)
  if(CLIPCAER_CXX_HAS_AVX512_VNNI)
    set_source_files_properties(${_rt_dir}/kernels_avx512_vnni.cpp PROPERTIES COMPILE_OPTIONS "${_avx512};-mavx512vnni")
  endif()
  if(CLIPCAER_CXX_HAS_AVX512_BF16)
    set_source_files_properties(${_rt_dir}/kernels_avx512_bf16.cpp PROPERTIES
      COMPILE_OPTIONS "${_avx512};-mavx512bf16;-mavx512vnni")
    if(CLIPCAER_CXX_HAS_AMX)
      set_source_files_properties(${_rt_dir}/kernels_avx512_amx.cpp PROPERTIES
        COMPILE_OPTIONS "${_avx512};-mavx512bf16;-mavx512vnni;-mamx-tile;-mamx-bf16;-mamx-int8")
    endif()
  endif()
else()
  set(_rt_sources ${_rt_dir}/kernels_baseline.cpp ${_rt_dir}/kernels_none.cpp)
endif()

# The CUDA backend's device (or stubs that say the build has none).
if(CLIPCAER_CUDA)
  list(APPEND _rt_sources ${_rt_dir}/gpu/cuda_device.cu)
else()
  list(APPEND _rt_sources ${_rt_dir}/gpu/cuda_none.cpp)
endif()

add_library(clipcaer_runtime STATIC ${_rt_sources})
add_library(clipcaer::runtime ALIAS clipcaer_runtime)
set_target_properties(clipcaer_runtime PROPERTIES POSITION_INDEPENDENT_CODE ON OUTPUT_NAME clipcaer_runtime
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
target_link_libraries(clipcaer_runtime PUBLIC clipcaer)
target_compile_definitions(clipcaer_runtime PUBLIC CLIPCAER_MULTIARCH)
if(CLIPCAER_CUDA)
  target_link_libraries(clipcaer_runtime PUBLIC CUDA::cudart CUDA::cublas)
  target_compile_definitions(clipcaer_runtime PUBLIC CLIPCAER_HAS_CUDA)
  set_target_properties(clipcaer_runtime PROPERTIES CUDA_VISIBILITY_PRESET hidden
    CUDA_ARCHITECTURES "${CLIPCAER_CUDA_ARCHITECTURES}")
  # nvcc passes these to the host compiler; our warnings stay on for .cpp files.
  target_compile_options(clipcaer_runtime PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
endif()
clipcaer_warnings(clipcaer_runtime)
