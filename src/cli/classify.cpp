// clipcaer classify: each clip (frames folder or video file) -> predicted class and probabilities.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "clip_runner.hpp"
#include "commands.hpp"

namespace clipcaer::cli {

const char* const kClassifyHelp =
    "usage: clipcaer classify --model M.safetensors CLIP... [options]\n"
    "\n"
    "Classifies each clip from its face crops and context frames. A clip is a folder of\n"
    "video frames (JPEG/PNG/BMP, sorted by name) or a video file (MP4, MKV, AVI, ...);\n"
    "T of its frames are picked as the official test loader does.\n"
    "\n"
    "  --model FILE          converted weights (weights/convert.py)\n"
    "  --face-boxes FILE     official face boxes JSON {clip_dir: {frame_file: [l,u,r,b]}}\n"
    "                        (for a video: {video_path: {frame_index: [l,u,r,b]}}, from \"0\")\n"
    "  --body-boxes FILE     official body boxes JSON {clip_dir: [l,u,r,b]}\n"
    "                        (clips without boxes use whole frames)\n"
    CLIPCAER_FACE_DETECTION_HELP
    "  --format FMT          text (default), json or csv\n"
    "  --threads N           worker threads (default: one per core)\n"
    "  --isa NAME            force a kernel set (those of clipcaer --version)\n"
    "  --dtype TYPE          weight storage: float32, bfloat16 or int8 (default: the file's)\n"
    "  --device D            where the image tower runs: cpu (default), cuda, cuda:N\n";

int run_classify(const std::vector<std::string>& argv) {
  const Args a = parse_args(
      argv, {"model", "face-boxes", "body-boxes", "face-cascade", "format", "threads", "isa", "dtype", "device"},
      {"detect-faces"});
  if (!a.has("model")) throw UsageError("--model is required");
  if (a.positional.empty()) throw UsageError("no clip folder or video given");
  const std::string format = a.get("format", "text");
  if (format != "text" && format != "json" && format != "csv")
    throw UsageError("--format must be text, json or csv, not '" + format + "'");

  const Model model(a.get("model"), model_options(a));
  const io::BoxIndex boxes(a.get("face-boxes"), a.get("body-boxes"));
  const auto detector = face_detector(a);
  ClipRunner runner(model, boxes, model.threads(), detector.get());
  const auto& names = model.class_names();

  nlohmann::json all = nlohmann::json::array();
  if (format == "csv") {
    std::printf("clip,label,index");
    for (const auto& n : names) std::printf(",p_%s", n.c_str());
    std::printf("\n");
  }
  for (const std::string& dir : a.positional) {
    const ClipRunner::Result r = runner.run({dir});
    const Prediction& p = r.prediction;
    if (format == "json") {
      all.push_back(prediction_json(dir, p, names));
      all.back()["face_boxes_used"] = r.face_boxes_used;
      if (detector) all.back()["faces_detected"] = r.faces_detected;
    } else if (format == "csv") {
      std::printf("\"%s\",%s,%zu", dir.c_str(), p.label.c_str(), p.index);
      for (float v : p.probs) std::printf(",%.6f", v);
      std::printf("\n");
    } else {
      std::printf("%s: %s (%.1f %%)\n", dir.c_str(), p.label.c_str(), 100.0 * p.probs[p.index]);
      if (detector)
        std::printf("  faces: %zu of %zu frames (%zu found by the detector)\n", r.face_boxes_used,
                    model.num_frames(), r.faces_detected);
      for (std::size_t c = 0; c < names.size(); ++c) {
        const int bar = static_cast<int>(p.probs[c] * 40 + 0.5f);
        std::printf("  %-14s %6.2f %%  %s\n", names[c].c_str(), 100.0 * p.probs[c], std::string(bar, '#').c_str());
      }
    }
  }
  if (format == "json") std::cout << all.dump(2) << "\n";
  return 0;
}

}  // namespace clipcaer::cli
