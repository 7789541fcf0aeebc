# The Debian package of vmcollect (issue 8), built with `cpack -G DEB` in the
# build directory. It holds /usr/sbin/vmcollect; its maintainer scripts
# (postinst, prerm, postrm and a file trigger, all here) divert Debian's
# /usr/bin/makedumpfile and /usr/sbin/vmcore-dmesg and make vmcollect and the
# originals members of alternatives groups of those names, reversibly.
# Included from collector/CMakeLists.txt after the install() rules.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vmcollect)
set(CPACK_PACKAGE_VENDOR "vmcollect")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
if(NOT CPACK_PACKAGE_VERSION)
  set(CPACK_PACKAGE_VERSION 0.1.0)
endif()
set(CPACK_PACKAGE_CONTACT "vmcollect maintainers <vmcollect@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "kdump vmcore collector and filter, a drop-in for makedumpfile")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "vmcollect collects and filters /proc/vmcore in the kdump capture kernel.\n It speaks makedumpfile's command line and writes dumps that crash,\n libkdumpfile and makedumpfile read. The package offers it as\n makedumpfile and vmcore-dmesg through update-alternatives.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # vmcollect_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "kdump-tools")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/postinst
    ${CMAKE_CURRENT_LIST_DIR}/prerm
    ${CMAKE_CURRENT_LIST_DIR}/postrm
    ${CMAKE_CURRENT_LIST_DIR}/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only what install() rules marked for the package.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Stripped, as Debian ships binaries: kdump-config copies it into the capture
# initramfs, which the capture kernel holds in RAM (a RelWithDebInfo build
# carries over 20 MiB of debug info).
set(CPACK_STRIP_FILES ON)
include(CPack)
