# SPDX-License-Identifier: GPL-3.0-or-later
# Every library comes from Debian's -dev packages (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

macro(parley_pkg target module)
  pkg_check_modules(${target} REQUIRED IMPORTED_TARGET ${module})
endmacro()

parley_pkg(SNDFILE sndfile)
parley_pkg(SOXR soxr)
parley_pkg(WEBRTC_APM webrtc-audio-processing)
# Debian's pocketsphinx.pc names include directories that do not exist
# (/usr/include/sphinxbase); an imported target would refuse them, so build
# the interface target from the directories that do.
pkg_check_modules(POCKETSPHINX REQUIRED pocketsphinx)
add_library(parley_pocketsphinx INTERFACE)
foreach(dir IN LISTS POCKETSPHINX_INCLUDE_DIRS)
  if(EXISTS "${dir}")
    target_include_directories(parley_pocketsphinx SYSTEM INTERFACE "${dir}")
  endif()
endforeach()
target_link_libraries(parley_pocketsphinx INTERFACE ${POCKETSPHINX_LINK_LIBRARIES})
parley_pkg(ESPEAK espeak-ng)

parley_pkg(OPUS opus)
parley_pkg(OGG ogg)
parley_pkg(SQLITE sqlite3)
# Several nodes: Redis between them (libhiredis-dev: the protocol; the I/O is Asio).
parley_pkg(HIREDIS hiredis)
# ... and PostgreSQL as the store they share (libpq-dev).
parley_pkg(LIBPQ libpq)
parley_pkg(QRENCODE libqrencode)
# WebRTC (WHIP/WHEP) through GStreamer's webrtcbin.
parley_pkg(GST gstreamer-1.0)
parley_pkg(GST_APP gstreamer-app-1.0)
parley_pkg(GST_SDP gstreamer-sdp-1.0)
parley_pkg(GST_WEBRTC gstreamer-webrtc-1.0)
find_package(OpenSSL REQUIRED)
# Boost 1.81 (libboost1.81-dev) for Beast; header-only parts plus system.
find_package(Boost 1.81 REQUIRED CONFIG)

find_package(nlohmann_json 3.10 REQUIRED)

if(PARLEY_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(PARLEY_BUILD_BENCH)
  find_package(benchmark QUIET)
endif()
