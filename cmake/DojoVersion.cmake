# Records the project version and the git commit the build came from.
set(DOJO_GIT_SHA "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${CMAKE_SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" rev-parse --short=12 HEAD
                  WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
                  OUTPUT_VARIABLE _dojo_sha OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET RESULT_VARIABLE _dojo_sha_rc)
  if(_dojo_sha_rc EQUAL 0 AND _dojo_sha)
    set(DOJO_GIT_SHA "${_dojo_sha}")
  endif()
endif()
# Re-run configuration when HEAD moves so the recorded commit stays true.
if(EXISTS "${CMAKE_SOURCE_DIR}/.git/HEAD")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/.git/HEAD")
  file(READ "${CMAKE_SOURCE_DIR}/.git/HEAD" _dojo_head)
  if(_dojo_head MATCHES "^ref: ([^\n]+)")
    set(_dojo_ref "${CMAKE_SOURCE_DIR}/.git/${CMAKE_MATCH_1}")
    if(EXISTS "${_dojo_ref}")
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_dojo_ref}")
    endif()
  endif()
endif()
