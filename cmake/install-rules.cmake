include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(JOBRUNNER_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/jobrunner")

install(TARGETS jobrunner EXPORT jobrunnerTargets FILE_SET HEADERS)
install(EXPORT jobrunnerTargets NAMESPACE jobrunner:: DESTINATION "${JOBRUNNER_CMAKE_DIR}")

configure_package_config_file(cmake/jobrunnerConfig.cmake.in
  "${PROJECT_BINARY_DIR}/jobrunnerConfig.cmake"
  INSTALL_DESTINATION "${JOBRUNNER_CMAKE_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/jobrunnerConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/jobrunnerConfig.cmake"
  "${PROJECT_BINARY_DIR}/jobrunnerConfigVersion.cmake"
  DESTINATION "${JOBRUNNER_CMAKE_DIR}")
install(FILES LICENSE DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/jobrunner")

# pkg-config (share/pkgconfig: the library has no architecture-dependent file).
set(JOBRUNNER_PC_DIR "${CMAKE_INSTALL_DATADIR}/pkgconfig")
file(RELATIVE_PATH JOBRUNNER_PC_TO_PREFIX "/prefix/${JOBRUNNER_PC_DIR}" "/prefix")
string(REGEX REPLACE "/$" "" JOBRUNNER_PC_TO_PREFIX "${JOBRUNNER_PC_TO_PREFIX}")
configure_file(cmake/jobrunner.pc.in "${PROJECT_BINARY_DIR}/jobrunner.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/jobrunner.pc" DESTINATION "${JOBRUNNER_PC_DIR}")
