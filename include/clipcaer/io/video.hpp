// Video files as clips: the frames a clip needs, read straight from a video
// (MP4, MKV, AVI, WebM, ... whatever the FFmpeg libraries open), so users
// need not extract frames first. Frame i is the i-th frame the decoder
// outputs (from 0), the i-th file `ffmpeg -i video -pix_fmt rgb24 %05d.png`
// would write; its name, for face-box lookup, is i in decimal ("0", "17").
//
// Needs a build with FFmpeg (CLIPCAER_HAVE_FFMPEG, defined by the CMake
// targets when CLIPCAER_VIDEO=ON, the default); without it, every function
// here that reads a video throws ErrorCode::unsupported saying so.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "clipcaer/core/error.hpp"
#include "clipcaer/io/image.hpp"

#ifdef CLIPCAER_HAVE_FFMPEG
#include "clipcaer/io/video_decode_ffmpeg.hpp"
#endif

namespace clipcaer::io {

// Longer videos are refused: 2^24 frames is over six days at 30 fps.
inline constexpr std::size_t kMaxVideoFrames = std::size_t{1} << 24;

inline bool video_supported() noexcept {
#ifdef CLIPCAER_HAVE_FFMPEG
  return true;
#else
  return false;
#endif
}

// What reads video files in this build: "FFmpeg (libavformat 59.27.100, ...)" or "none".
inline std::string video_decoder() {
#ifdef CLIPCAER_HAVE_FFMPEG
  return ffmpeg_version();
#else
  return "none";
#endif
}

// A frame's name in a video, the key of its face box: its index in decimal.
inline std::string video_frame_name(std::size_t index) { return std::to_string(index); }

struct VideoInfo {
  std::size_t num_frames = 0;  // frames in the video
  double frame_rate = 0;       // frames per second the file states; 0 when unknown
};

// Reads video `path` once, calling choose(info) for the frame indices wanted
// (each < info.num_frames) and take(i, Image&&) for each of them in
// increasing order, decoding on `threads` threads (0: one per core).
// The frame count comes from demuxing first (one packet per frame for every
// common codec); if decoding then yields a different count (damaged packets
// dropped, codecs that pack frames), choose is called again with the true
// count and the video decoded once more: choose starts a pass, so a caller
// that keeps state resets it there. Returns the count decoded and the rate.
template <class Choose, class Take>
VideoInfo visit_video_frames(const std::string& path, Choose&& choose, Take&& take, std::size_t threads = 0) {
#ifdef CLIPCAER_HAVE_FFMPEG
  auto check_count = [&](std::size_t n, const char* how) {
    require(n > 0, ErrorCode::format, "video '", path, "' has no ", how, " frames");
    require(n <= kMaxVideoFrames, ErrorCode::invalid_argument, "video '", path, "' has ", n,
            " frames, more than the limit of ", kMaxVideoFrames);
  };
  VideoInfo info;
  {
    VideoReader counter(path, 1);
    info.num_frames = counter.count_packets();
    info.frame_rate = counter.frame_rate();
  }
  check_count(info.num_frames, "video");
  for (int attempt = 0;; ++attempt) {
    const std::vector<std::size_t> wanted = choose(static_cast<const VideoInfo&>(info));
    const std::set<std::size_t> want(wanted.begin(), wanted.end());
    VideoReader reader(path, threads);
    const std::size_t decoded =
        reader.decode([&](std::size_t i) { return want.count(i) != 0; }, [&](std::size_t i, Image&& im) {
          take(i, std::move(im));
        });
    check_count(decoded, "decodable");
    if (decoded == info.num_frames) return info;
    require(attempt == 0, ErrorCode::format, "video '", path, "' decoded to ", info.num_frames,
            " frames on one pass and ", decoded, " on the next");
    info.num_frames = decoded;
  }
#else
  (void)choose;
  (void)take;
  (void)threads;
  throw_error(ErrorCode::unsupported, "'", path,
              "' is a file: reading video files needs clipcaer built with FFmpeg (CMake option CLIPCAER_VIDEO=ON; "
              "Debian: apt-get install libavformat-dev libavcodec-dev libswscale-dev); a folder of its frames "
              "works in any build");
#endif
}

struct VideoFrames {
  std::size_t num_frames = 0;           // frames in the video
  std::map<std::size_t, Image> frames;  // the chosen ones, by index
};

// The frames choose(num_frames) returns, kept in memory (visit_video_frames).
template <class Choose>
VideoFrames read_video_frames(const std::string& path, Choose&& choose, std::size_t threads = 0) {
  VideoFrames out;
  out.num_frames = visit_video_frames(
                       path,
                       [&](const VideoInfo& info) {
                         out.frames.clear();
                         return choose(info.num_frames);
                       },
                       [&](std::size_t i, Image&& im) { out.frames[i] = std::move(im); }, threads)
                       .num_frames;
  return out;
}

}  // namespace clipcaer::io
