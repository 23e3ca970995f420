// clipcaer timeline: a long video -> the predicted class of each window along it.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clip_runner.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "clipcaer/eval/timeline_svg.hpp"
#include "clipcaer/timeline.hpp"

namespace clipcaer::cli {

const char* const kTimelineHelp =
    "usage: clipcaer timeline --model M.safetensors VIDEO... [options]\n"
    "\n"
    "Classifies a long video (a recorded lesson: a video file, or a folder of its frames)\n"
    "window by window: a window of a few seconds slides along the video, and each is\n"
    "classified as a clip of its own (T of its frames picked as the official test loader\n"
    "picks them). Frames that overlapping windows share go through the image tower once.\n"
    "\n"
    "  --model FILE          converted weights (weights/convert.py)\n"
    "  --window SECONDS      window length (default 4)\n"
    "  --stride SECONDS      from one window's start to the next (default 2)\n"
    "  --window-frames N     window length in frames instead of seconds\n"
    "  --stride-frames N     stride in frames instead of seconds\n"
    "  --fps RATE            frames per second (a folder of frames needs it for seconds;\n"
    "                        default for a file: the rate it states)\n"
    "  --face-boxes FILE     official face boxes JSON {video_path: {frame_index: [l,u,r,b]}}\n"
    "                        (for a folder: {folder: {frame_file: [l,u,r,b]}})\n"
    "  --body-boxes FILE     official body boxes JSON {video_path: [l,u,r,b]} (every frame)\n"
    CLIPCAER_FACE_DETECTION_HELP
    "  --format FMT          text (default), json or csv\n"
    "  --svg FILE            also draw the timeline as a picture (one video only)\n"
    "  --threads N           worker threads (default: one per core)\n"
    "  --isa NAME            force a kernel set (those of clipcaer --version)\n"
    "  --dtype TYPE          weight storage: float32, bfloat16 or int8 (default: the file's)\n"
    "  --device D            where the image tower runs: cpu (default), cuda, cuda:N\n";

namespace {

// A positive number (seconds, frames per second); `unit` for the message.
double parse_positive(const Args& a, const std::string& name, double fallback, const char* unit) {
  const std::string s = a.get(name);
  if (s.empty()) return fallback;
  std::size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos == 0 || pos != s.size() || !(v > 0) || v > 1e9)
    throw UsageError("--" + name + " needs a positive number of " + unit + ", got '" + s + "'");
  return v;
}

// "01:02:03.5" for a time of an hour or more, "02:03.50" below.
std::string clock(double seconds) {
  char buf[48];
  const long whole = static_cast<long>(seconds);
  const double frac = seconds - static_cast<double>(whole);
  if (whole >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%05.2f", whole / 3600, whole / 60 % 60, whole % 60 + frac);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%05.2f", whole / 60, whole % 60 + frac);
  return buf;
}

// Share of windows per predicted class, most frequent first.
std::vector<std::pair<std::string, double>> class_shares(const Timeline& t, const std::vector<std::string>& names) {
  const std::vector<double> share = timeline_class_shares(t, names.size());
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t c = 0; c < names.size(); ++c)
    if (share[c] > 0) out.emplace_back(names[c], share[c]);
  std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  return out;
}

nlohmann::json timeline_json(const std::string& video, const Timeline& t, const std::vector<std::string>& names) {
  nlohmann::json windows = nlohmann::json::array();
  for (const auto& w : t.windows) {
    nlohmann::json j = prediction_json(video, w.prediction, names);
    j.erase("clip");
    j["first_frame"] = w.first_frame;
    j["end_frame"] = w.end_frame;
    j["start"] = w.start_seconds;
    j["end"] = w.end_seconds;
    j["frames"] = w.frames;
    j["face_boxes_used"] = w.face_boxes_used;
    j["faces_detected"] = w.faces_detected;
    windows.push_back(std::move(j));
  }
  nlohmann::json shares = nlohmann::json::object();
  for (const auto& [name, share] : class_shares(t, names)) shares[name] = share;
  return {{"video", video},           {"num_frames", t.num_frames},       {"frame_rate", t.frame_rate},
          {"window_frames", t.window_frames}, {"stride_frames", t.stride_frames}, {"class_shares", shares},
          {"windows", windows}};
}

}  // namespace

int run_timeline(const std::vector<std::string>& argv) {
  const Args a = parse_args(argv,
                            {"model", "window", "stride", "window-frames", "stride-frames", "fps", "face-boxes", "body-boxes",
                             "face-cascade", "format", "svg", "threads", "isa", "dtype", "device"},
                            {"detect-faces"});
  if (!a.has("model")) throw UsageError("--model is required");
  if (a.positional.empty()) throw UsageError("no video given");
  const std::string format = a.get("format", "text");
  if (format != "text" && format != "json" && format != "csv")
    throw UsageError("--format must be text, json or csv, not '" + format + "'");
  TimelineOptions opt;
  opt.window_seconds = parse_positive(a, "window", opt.window_seconds, "seconds");
  opt.stride_seconds = parse_positive(a, "stride", opt.stride_seconds, "seconds");
  opt.frame_rate = parse_positive(a, "fps", 0, "frames per second");
  opt.window_frames = a.get_size("window-frames", 0);
  opt.stride_frames = a.get_size("stride-frames", 0);
  if (a.has("window") && a.has("window-frames")) throw UsageError("give --window or --window-frames, not both");
  if (a.has("stride") && a.has("stride-frames")) throw UsageError("give --stride or --stride-frames, not both");
  if (a.has("window-frames") && opt.window_frames == 0) throw UsageError("--window-frames must be at least 1");
  if (a.has("stride-frames") && opt.stride_frames == 0) throw UsageError("--stride-frames must be at least 1");

  if (a.has("svg") && a.positional.size() != 1) throw UsageError("--svg draws one video: give exactly one");
  const Model model(a.get("model"), model_options(a));
  const io::BoxIndex boxes(a.get("face-boxes"), a.get("body-boxes"));
  const auto detector = face_detector(a);
  opt.face_detector = detector.get();
  const auto& names = model.class_names();

  nlohmann::json all = nlohmann::json::array();
  if (format == "csv") {
    std::printf("video,first_frame,end_frame,start,end,label,index");
    for (const auto& n : names) std::printf(",p_%s", n.c_str());
    std::printf("\n");
  }
  for (const std::string& video : a.positional) {
    std::unique_ptr<Progress> progress;
    const Timeline t = classify_video_timeline(model, video, boxes.lookup({video}), opt,
                                               [&](std::size_t done, std::size_t total) {
                                                 if (!progress || done == 1) progress = std::make_unique<Progress>(total, "window");
                                                 progress->update(done);
                                               });
    progress.reset();
    if (a.has("svg")) write_file(a.get("svg"), eval::timeline_svg(t, names, video));
    if (format == "json") {
      all.push_back(timeline_json(video, t, names));
    } else if (format == "csv") {
      for (const auto& w : t.windows) {
        std::printf("\"%s\",%zu,%zu,%.3f,%.3f,%s,%zu", video.c_str(), w.first_frame, w.end_frame, w.start_seconds,
                    w.end_seconds, w.prediction.label.c_str(), w.prediction.index);
        for (float v : w.prediction.probs) std::printf(",%.6f", v);
        std::printf("\n");
      }
    } else {
      std::printf("%s: %zu frames", video.c_str(), t.num_frames);
      if (t.frame_rate > 0) std::printf(" at %.3g fps", t.frame_rate);
      std::printf(", %zu windows of %zu frames every %zu\n", t.windows.size(), t.window_frames, t.stride_frames);
      for (const auto& w : t.windows) {
        const Prediction& p = w.prediction;
        if (t.frame_rate > 0)
          std::printf("  %s-%s", clock(w.start_seconds).c_str(), clock(w.end_seconds).c_str());
        else
          std::printf("  frames %zu-%zu", w.first_frame, w.end_frame);
        std::printf("  %-14s %5.1f %%\n", p.label.c_str(), 100.0 * p.probs[p.index]);
      }
      std::printf("  windows per class:");
      for (const auto& [name, share] : class_shares(t, names)) std::printf(" %s %.0f %%", name.c_str(), 100 * share);
      std::printf("\n");
    }
  }
  if (format == "json") std::cout << all.dump(2) << "\n";
  return 0;
}

}  // namespace clipcaer::cli
