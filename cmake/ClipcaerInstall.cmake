# install() rules and the package config, so that after `cmake --install`
# a project can `find_package(clipcaer)` and link clipcaer::clipcaer,
# clipcaer::runtime or clipcaer::c — the same names add_subdirectory gives.
include(CMakePackageConfigHelpers)

set(CLIPCAER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/clipcaer)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/clipcaer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set_target_properties(clipcaer_runtime PROPERTIES EXPORT_NAME runtime)
set(_install_targets clipcaer clipcaer_runtime)
if(TARGET clipcaer_c)
  set_target_properties(clipcaer_c PROPERTIES EXPORT_NAME c)
  list(APPEND _install_targets clipcaer_c)
  install(FILES ${PROJECT_SOURCE_DIR}/capi/include/clipcaer.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(TARGETS ${_install_targets} EXPORT clipcaerTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT clipcaerTargets NAMESPACE clipcaer:: DESTINATION ${CLIPCAER_CMAKE_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/clipcaerConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/clipcaerConfig.cmake INSTALL_DESTINATION ${CLIPCAER_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/clipcaerConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/clipcaerConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/clipcaerConfigVersion.cmake
  DESTINATION ${CLIPCAER_CMAKE_DIR})
