# Third-party packages, all from Debian (see docs/dependencies.md).
include(GNUInstallDirs)
find_package(Threads REQUIRED)

find_package(xsimd 8 QUIET)
if(NOT xsimd_FOUND)
  message(FATAL_ERROR "clipcaer needs xsimd >= 8 (Debian: apt-get install libxsimd-dev)")
endif()
# Debian's xsimd 8 exports a link to an `xtl` target that no package provides;
# xtl is only needed for xtl::xcomplex support, which clipcaer does not use.
if(NOT TARGET xtl)
  add_library(xtl INTERFACE IMPORTED)
endif()
find_package(nlohmann_json 3.9 QUIET)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "clipcaer needs nlohmann_json >= 3.9 (Debian: apt-get install nlohmann-json3-dev)")
endif()
# zlib reads the gzip CLIP merges file (text/gzip.hpp).
find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  message(FATAL_ERROR "clipcaer needs zlib (Debian: apt-get install zlib1g-dev)")
endif()
# FFmpeg's libraries read video files (io/video_decode_ffmpeg.hpp). Debian ships
# pkg-config files for them, no CMake package. GLOBAL: the install export and
# subdirectories see the imported target.
if(CLIPCAER_VIDEO)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(CLIPCAER_FFMPEG QUIET IMPORTED_TARGET GLOBAL libavformat libavcodec libavutil libswscale)
  endif()
  if(NOT CLIPCAER_FFMPEG_FOUND)
    message(FATAL_ERROR "clipcaer reads video files with FFmpeg (Debian: apt-get install pkg-config libavformat-dev "
                        "libavcodec-dev libswscale-dev), or configure with -DCLIPCAER_VIDEO=OFF to read frame folders only")
  endif()
endif()
# libjpeg-turbo decodes JPEG frames as Pillow does (io/jpeg_decode_libjpeg.hpp).
if(CLIPCAER_LIBJPEG)
  find_package(JPEG QUIET)
  if(NOT JPEG_FOUND)
    message(FATAL_ERROR "clipcaer decodes JPEG with libjpeg-turbo (Debian: apt-get install libjpeg-dev), "
                        "or configure with -DCLIPCAER_LIBJPEG=OFF to decode with stb_image (not bit-exact with Pillow)")
  endif()
endif()
