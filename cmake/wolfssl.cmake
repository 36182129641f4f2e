# wolfssl.cmake: finds the wolfSSL hearth links and defines hearth::wolfssl.
# Included once, from the top CMakeLists.txt; nothing else locates wolfSSL.
#
#   HEARTH_WOLFSSL=fast    (default) Debian's wolfSSL source of the installed
#                          version, built with its optimised math by
#                          deploy/wolfssl.sh into HEARTH_WOLFSSL_CACHE (once;
#                          reused while version and flags match) and linked
#                          statically: the binary cannot load the system's
#                          libwolfssl.so, whose ABI differs.
#   HEARTH_WOLFSSL=system  Debian's libwolfssl, through pkg-config.
#   WOLFSSL_ROOT=PREFIX    any other wolfSSL install (pkg-config under PREFIX,
#                          with an rpath); overrides HEARTH_WOLFSSL.
#
# Sets HEARTH_WOLFSSL_LINKED (fast, system or root) and HEARTH_WOLFSSL_INCLUDE
# (the headers built against) for the tests.

set(HEARTH_WOLFSSL "fast" CACHE STRING
    "wolfSSL to link: fast (Debian's source with optimised math, static) or system")
set_property(CACHE HEARTH_WOLFSSL PROPERTY STRINGS fast system)
set(HEARTH_WOLFSSL_CACHE "${CMAKE_SOURCE_DIR}/build/wolfssl" CACHE PATH
    "Where deploy/wolfssl.sh keeps the fast wolfSSL builds")
set(WOLFSSL_ROOT "" CACHE PATH "Prefix of a wolfSSL build to use instead of HEARTH_WOLFSSL")

set(hearth_wolfssl_script "${CMAKE_SOURCE_DIR}/deploy/wolfssl.sh")
set(hearth_wolfssl_retry
    "Install the build tools with `deploy/deps.sh`, build it with "
    "`deploy/wolfssl.sh --cache ${HEARTH_WOLFSSL_CACHE}`, then configure again, or "
    "configure with -DHEARTH_WOLFSSL=system to use Debian's libwolfssl.")

# The fast build's prefix; builds it first when the cache lacks it.
function(hearth_wolfssl_fast_prefix out)
  execute_process(COMMAND sh "${hearth_wolfssl_script}" --cache "${HEARTH_WOLFSSL_CACHE}"
                          --print-prefix
                  OUTPUT_VARIABLE prefix RESULT_VARIABLE rc
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "HEARTH_WOLFSSL=fast: deploy/wolfssl.sh failed (above). "
                        ${hearth_wolfssl_retry})
  endif()
  if(NOT EXISTS "${prefix}/hearth-wolfssl.txt")
    message(STATUS "wolfSSL: building Debian's source with optimised math into "
                   "${prefix} (once, about a minute or two)")
    execute_process(COMMAND sh "${hearth_wolfssl_script}" --cache "${HEARTH_WOLFSSL_CACHE}"
                    OUTPUT_VARIABLE prefix RESULT_VARIABLE rc
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT rc EQUAL 0 OR NOT EXISTS "${prefix}/hearth-wolfssl.txt")
      message(FATAL_ERROR "HEARTH_WOLFSSL=fast: building wolfSSL failed (above). "
                          ${hearth_wolfssl_retry})
    endif()
  endif()
  set(${out} "${prefix}" PARENT_SCOPE)
endfunction()

if(WOLFSSL_ROOT)
  set(ENV{PKG_CONFIG_PATH} "${WOLFSSL_ROOT}/lib/pkgconfig:$ENV{PKG_CONFIG_PATH}")
  pkg_check_modules(WOLFSSL REQUIRED IMPORTED_TARGET wolfssl)
  add_library(hearth::wolfssl ALIAS PkgConfig::WOLFSSL)
  set(HEARTH_WOLFSSL_LINKED root)
  set(HEARTH_WOLFSSL_INCLUDE "${WOLFSSL_INCLUDEDIR}")
elseif(HEARTH_WOLFSSL STREQUAL "system")
  pkg_check_modules(WOLFSSL REQUIRED IMPORTED_TARGET wolfssl)
  add_library(hearth::wolfssl ALIAS PkgConfig::WOLFSSL)
  set(HEARTH_WOLFSSL_LINKED system)
  set(HEARTH_WOLFSSL_INCLUDE "${WOLFSSL_INCLUDEDIR}")
elseif(HEARTH_WOLFSSL STREQUAL "fast")
  hearth_wolfssl_fast_prefix(prefix)
  add_library(hearth_wolfssl_fast STATIC IMPORTED GLOBAL)
  set_target_properties(hearth_wolfssl_fast PROPERTIES
    IMPORTED_LOCATION "${prefix}/lib/libwolfssl.a"
    INTERFACE_INCLUDE_DIRECTORIES "${prefix}/include"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;m")
  add_library(hearth::wolfssl ALIAS hearth_wolfssl_fast)
  set(HEARTH_WOLFSSL_LINKED fast)
  set(HEARTH_WOLFSSL_INCLUDE "${prefix}/include")
  # Rebuild when Debian's package is upgraded (a new source version) or the
  # recipe changes; the prefix's name depends on both.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${hearth_wolfssl_script}")
  file(GLOB dpkg_list /var/lib/dpkg/info/libwolfssl-dev.list
                      /var/lib/dpkg/info/libwolfssl-dev:*.list)
  if(dpkg_list)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${dpkg_list})
  endif()
  message(STATUS "wolfSSL: ${prefix} (static, optimised math)")
else()
  message(FATAL_ERROR "HEARTH_WOLFSSL=${HEARTH_WOLFSSL}: must be fast or system")
endif()
