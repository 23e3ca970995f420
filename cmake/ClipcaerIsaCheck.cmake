# ISA leak check (tests/isa/check_isa_leaks.py): disassembles every program and
# shared library this project builds and fails if AVX-512 (or AVX) code shows
# up outside the functions that only run after the dispatcher checked the CPU.
# Included at the end of the top-level CMakeLists.txt, so every target exists.
if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  return()
endif()
find_program(CLIPCAER_OBJDUMP NAMES objdump HINTS ${CMAKE_OBJDUMP})
find_program(CLIPCAER_NM NAMES nm HINTS ${CMAKE_NM})
find_package(Python3 COMPONENTS Interpreter)
if(NOT CLIPCAER_OBJDUMP OR NOT CLIPCAER_NM OR NOT Python3_Interpreter_FOUND)
  message(STATUS "ISA leak check disabled (needs objdump, nm and Python 3)")
  return()
endif()

function(_clipcaer_collect_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    _clipcaer_collect_targets(${sub} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

_clipcaer_collect_targets(${PROJECT_SOURCE_DIR} _all_targets)
set(_binaries)
foreach(_t ${_all_targets})
  get_target_property(_type ${_t} TYPE)
  if(_type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY)$" AND NOT _t STREQUAL "isa_leak_fixture")
    list(APPEND _binaries $<TARGET_FILE:${_t}>)
  endif()
endforeach()

set(_check ${PROJECT_SOURCE_DIR}/tests/isa/check_isa_leaks.py)
# What the linker kept in every program and module.
add_test(NAME isa_leak_check
  COMMAND ${Python3_EXECUTABLE} ${_check} --objdump ${CLIPCAER_OBJDUMP} --nm ${CLIPCAER_NM} --expect-avx512 ${_binaries})
# Latent leaks in the kernel objects, whichever copy a link would keep. At -O0
# std:: and xsimd scalar helpers stay out of line with VEX encodings (harmful
# only on CPUs without AVX), so Debug checks AVX-512 only there.
add_test(NAME isa_leak_check_objects
  COMMAND ${Python3_EXECUTABLE} ${_check} --objdump ${CLIPCAER_OBJDUMP} --nm ${CLIPCAER_NM} --expect-avx512
          $<$<CONFIG:Debug>:--avx512-only> $<TARGET_OBJECTS:clipcaer_runtime>
  COMMAND_EXPAND_LISTS)
# The benchmarks' peak loops (bench/kernels), whose TUs are built with AVX-512
# and AMX flags. No --expect-avx512: the AMX loops are VEX code only.
if(TARGET clipcaer_bench_peak)
  add_test(NAME isa_leak_check_bench_objects
    COMMAND ${Python3_EXECUTABLE} ${_check} --objdump ${CLIPCAER_OBJDUMP} --nm ${CLIPCAER_NM}
            $<$<CONFIG:Debug>:--avx512-only> $<TARGET_OBJECTS:clipcaer_bench_peak>
    COMMAND_EXPAND_LISTS)
endif()

# The checker must flag a known leak (the AVX-512 TU is first on the link line).
add_executable(isa_leak_fixture ${PROJECT_SOURCE_DIR}/tests/isa/leak_fixture_avx512.cpp
                                ${PROJECT_SOURCE_DIR}/tests/isa/leak_fixture_main.cpp)
set_source_files_properties(${PROJECT_SOURCE_DIR}/tests/isa/leak_fixture_avx512.cpp PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-Wno-uninitialized;-Wno-maybe-uninitialized")
add_test(NAME isa_leak_check_finds_leaks
  COMMAND ${Python3_EXECUTABLE} ${_check} --objdump ${CLIPCAER_OBJDUMP} --nm ${CLIPCAER_NM} $<TARGET_FILE:isa_leak_fixture>)
set_tests_properties(isa_leak_check_finds_leaks PROPERTIES WILL_FAIL TRUE)

# ... and an AVX-VNNI instruction outside the avx2_vnni table (reported as such).
if(CLIPCAER_CXX_HAS_AVXVNNI)
  add_executable(isa_leak_fixture_avx_vnni ${PROJECT_SOURCE_DIR}/tests/isa/leak_fixture_avx_vnni.cpp)
  set_source_files_properties(${PROJECT_SOURCE_DIR}/tests/isa/leak_fixture_avx_vnni.cpp PROPERTIES
    COMPILE_OPTIONS "-O1;-mavx2;-mavxvnni;-fno-inline")
  add_test(NAME isa_leak_check_finds_avx_vnni_leaks
    COMMAND ${Python3_EXECUTABLE} ${_check} --objdump ${CLIPCAER_OBJDUMP} --nm ${CLIPCAER_NM}
            $<TARGET_FILE:isa_leak_fixture_avx_vnni>)
  set_tests_properties(isa_leak_check_finds_avx_vnni_leaks PROPERTIES
    PASS_REGULAR_EXPRESSION "LEAK \\(avx_vnni, [0-9]+ instructions, e\\.g\\. '\\{vex\\} vpdpbusd")
endif()
