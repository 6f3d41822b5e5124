# Finds the CUDA toolkit and NCCL according to DOJO_WITH_CUDA (AUTO, ON, OFF).
#
# NCCL is looked for next to the CUDA toolkit (its include/ and lib64/), in the
# usual system prefixes, or under -DNCCL_ROOT=... (for example the lib/ and
# include/ of the nvidia-nccl-cu13 Python wheel). On success this defines the
# imported target dojo::nccl and sets DOJO_HAVE_CUDA to ON.
set(DOJO_HAVE_CUDA OFF)
string(TOUPPER "${DOJO_WITH_CUDA}" _dojo_cuda_mode)
if(NOT _dojo_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "DOJO_WITH_CUDA must be AUTO, ON or OFF, not '${DOJO_WITH_CUDA}'")
endif()

if(NOT _dojo_cuda_mode STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  set(_dojo_nccl_hints ${NCCL_ROOT} $ENV{NCCL_ROOT})
  if(CUDAToolkit_FOUND)
    list(APPEND _dojo_nccl_hints "${CUDAToolkit_LIBRARY_ROOT}" "${CUDAToolkit_TARGET_DIR}")
  endif()
  # The library first (each directory tried for both names before the next,
  # so a wheel's libnccl.so.2 is not passed over for a system libnccl.so),
  # then the header from the same prefix before anywhere else: a header of one
  # NCCL with the library of another fails at run time, not at build time.
  find_library(NCCL_LIBRARY NAMES nccl libnccl.so.2 NAMES_PER_DIR
               HINTS ${_dojo_nccl_hints} PATH_SUFFIXES lib64 lib)
  if(NCCL_LIBRARY)
    get_filename_component(_dojo_nccl_lib_dir "${NCCL_LIBRARY}" DIRECTORY)
    get_filename_component(_dojo_nccl_prefix "${_dojo_nccl_lib_dir}" DIRECTORY)
    find_path(NCCL_INCLUDE_DIR nccl.h PATHS "${_dojo_nccl_prefix}" PATH_SUFFIXES include
              NO_DEFAULT_PATH)
  endif()
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${_dojo_nccl_hints} PATH_SUFFIXES include)

  set(_dojo_cuda_missing "")
  if(NOT CUDAToolkit_FOUND)
    list(APPEND _dojo_cuda_missing "the CUDA toolkit (set CUDAToolkit_ROOT to its prefix)")
  endif()
  if(NOT NCCL_INCLUDE_DIR OR NOT NCCL_LIBRARY)
    list(APPEND _dojo_cuda_missing "NCCL (nccl.h and libnccl next to the CUDA toolkit, or give -DNCCL_ROOT=DIR)")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    list(APPEND _dojo_cuda_missing "nvcc (the CUDA compiler, for dojo's kernels)")
  endif()

  if(_dojo_cuda_missing)
    list(JOIN _dojo_cuda_missing " and " _dojo_cuda_missing_text)
    if(_dojo_cuda_mode STREQUAL "ON")
      message(FATAL_ERROR "DOJO_WITH_CUDA=ON but ${_dojo_cuda_missing_text} could not be found. "
                          "Install it, point CMake at it, or configure with -DDOJO_WITH_CUDA=OFF.")
    endif()
    message(STATUS "dojo: GPU parts off (not found: ${_dojo_cuda_missing_text})")
  else()
    set(DOJO_HAVE_CUDA ON)
    # A100 (sm_80) and H100/H200 (sm_90) unless the user chose.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    # .cu files hold kernels and their launch wrappers only, in C++17 (CMake
    # 3.25 knows no C++20 flag for nvcc 13); host code that drives them is
    # C++20 compiled by the C++ compiler.
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    enable_language(CUDA)
    add_library(dojo::nccl UNKNOWN IMPORTED)
    set_target_properties(dojo::nccl PROPERTIES IMPORTED_LOCATION "${NCCL_LIBRARY}"
                                                INTERFACE_INCLUDE_DIRECTORIES "${NCCL_INCLUDE_DIR}")
    message(STATUS "dojo: GPU parts on (CUDA ${CUDAToolkit_VERSION}, NCCL ${NCCL_LIBRARY})")
  endif()
else()
  message(STATUS "dojo: GPU parts off (DOJO_WITH_CUDA=OFF)")
endif()
