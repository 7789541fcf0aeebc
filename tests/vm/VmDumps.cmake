# Real-kernel dumps made under QEMU by tests/vm/make-dump.sh, for CTest.
#
# Include this from any tests CMakeLists.txt that wants the dumps:
#
#   include(${PROJECT_SOURCE_DIR}/tests/vm/VmDumps.cmake)
#   vmcollect_add_vm_test(NAME vm_crash_6.1 KERNEL 6.1
#                         COMMAND crash-check.sh ${VMCOLLECT_VM_DIR_6.1})
#
# It defines, whatever VMCOLLECT_VM_TESTS says:
#   VMCOLLECT_VM_KERNELS   6.1;6.12
#   VMCOLLECT_VM_DIR_<k>   ${CMAKE_BINARY_DIR}/vm/<k>: the make-dump.sh output
#                          (vmcore, pre-panic/, capture/, ok, ...; see README.md)
#   VMCOLLECT_VM_SCRIPTS   the tests/vm directory
# and vmcollect_add_vm_test(NAME n KERNEL k COMMAND ... [TIMEOUT s] [LABELS ...]
# [ENVIRONMENT ...] [WORKING_DIRECTORY d] [SKIP_RETURN_CODE c]), which adds a test only when
# VMCOLLECT_VM_TESTS is ON. That test requires the fixture vmdump_<k> (set up
# by the vm_dump_<k> test in tests/vm/CMakeLists.txt), carries the label vm,
# and gets VMCOLLECT_VM_DIR and VMCOLLECT_VM_KERNEL in its environment.
include_guard(DIRECTORY)

set(VMCOLLECT_VM_KERNELS 6.1 6.12)
set(VMCOLLECT_VM_SCRIPTS ${CMAKE_CURRENT_LIST_DIR})
foreach(_k IN LISTS VMCOLLECT_VM_KERNELS)
  set(VMCOLLECT_VM_DIR_${_k} ${CMAKE_BINARY_DIR}/vm/${_k})
endforeach()

function(vmcollect_add_vm_test)
  cmake_parse_arguments(PARSE_ARGV 0 A "" "NAME;KERNEL;TIMEOUT;WORKING_DIRECTORY;SKIP_RETURN_CODE"
                        "COMMAND;LABELS;ENVIRONMENT")
  if(NOT VMCOLLECT_VM_TESTS)
    return()
  endif()
  if(NOT A_NAME OR NOT A_KERNEL OR NOT A_COMMAND)
    message(FATAL_ERROR "vmcollect_add_vm_test: NAME, KERNEL and COMMAND are required")
  endif()
  if(NOT A_KERNEL IN_LIST VMCOLLECT_VM_KERNELS)
    message(FATAL_ERROR "vmcollect_add_vm_test: KERNEL must be one of ${VMCOLLECT_VM_KERNELS}")
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 1200)
  endif()
  set(_wd)
  if(A_WORKING_DIRECTORY)
    set(_wd WORKING_DIRECTORY ${A_WORKING_DIRECTORY})
  endif()
  add_test(NAME ${A_NAME} COMMAND ${A_COMMAND} ${_wd})
  set_tests_properties(${A_NAME} PROPERTIES
    FIXTURES_REQUIRED vmdump_${A_KERNEL}
    LABELS "vm;${A_LABELS}"
    TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "VMCOLLECT_VM_DIR=${VMCOLLECT_VM_DIR_${A_KERNEL}};VMCOLLECT_VM_KERNEL=${A_KERNEL};${A_ENVIRONMENT}")
  if(DEFINED A_SKIP_RETURN_CODE)
    set_tests_properties(${A_NAME} PROPERTIES SKIP_RETURN_CODE ${A_SKIP_RETURN_CODE})
  endif()
endfunction()
