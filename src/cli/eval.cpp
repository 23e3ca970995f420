// clipcaer eval: a labelled list -> WAR, UAR, per-class recall, confusion
// matrix (JSON report + SVG picture) and per-clip predictions.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "clip_runner.hpp"
#include "clipcaer/eval/confusion_svg.hpp"
#include "clipcaer/eval/label_list.hpp"
#include "clipcaer/eval/metrics.hpp"
#include "commands.hpp"
#include "progress.hpp"

namespace clipcaer::cli {

const char* const kEvalHelp =
    "usage: clipcaer eval --model M.safetensors --list test.txt [options]\n"
    "\n"
    "Runs the model on every clip of an official list file (lines 'clip_dir num_frames label',\n"
    "labels 1..C; clip_dir a frames folder or a video file) and reports WAR (accuracy), UAR (mean per-class recall), per-class recall\n"
    "and the confusion matrix.\n"
    "\n"
    "  --model FILE          converted weights\n"
    "  --list FILE           the labelled list\n"
    "  --root DIR            folder the list's clip_dir paths are relative to\n"
    "  --face-boxes FILE     official face boxes JSON\n"
    "  --body-boxes FILE     official body boxes JSON\n"
    CLIPCAER_FACE_DETECTION_HELP
    "  --out DIR             where report.json, confusion.svg and predictions.csv go\n"
    "                        (default: clipcaer-eval)\n"
    "  --keep-going          report clips that fail and go on (exit code 1 at the end)\n"
    "  --threads N           worker threads (default: one per core)\n"
    "  --isa NAME            force a kernel set (those of clipcaer --version)\n"
    "  --dtype TYPE          weight storage: float32, bfloat16 or int8 (default: the file's)\n"
    "  --device D            where the image tower runs: cpu (default), cuda, cuda:N\n";

namespace {

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

int run_eval(const std::vector<std::string>& argv) {
  const Args a = parse_args(argv,
                            {"model", "list", "root", "face-boxes", "body-boxes", "face-cascade", "out", "threads",
                             "isa", "dtype", "device"},
                            {"keep-going", "detect-faces"});
  if (!a.has("model")) throw UsageError("--model is required");
  if (!a.has("list")) throw UsageError("--list is required");
  if (!a.positional.empty()) throw UsageError("unexpected argument '" + a.positional[0] + "'");

  const Model model(a.get("model"), model_options(a));
  const auto& names = model.class_names();
  const auto clips = eval::read_label_list(a.get("list"), model.num_classes());
  const io::BoxIndex boxes(a.get("face-boxes"), a.get("body-boxes"));
  const std::string out_dir = a.get("out", "clipcaer-eval");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) throw_error(ErrorCode::io, "cannot create output folder '", out_dir, "': ", ec.message());

  const auto detector = face_detector(a);
  ClipRunner runner(model, boxes, model.threads(), detector.get());
  eval::ConfusionMatrix cm(model.num_classes());
  nlohmann::json per_clip = nlohmann::json::array(), failed = nlohmann::json::array();
  std::string csv = "clip,truth,predicted,correct";
  for (const auto& n : names) csv += ",p_" + n;
  csv += "\n";
  Progress progress(clips.size(), "clip");
  const std::string root = a.get("root");
  for (std::size_t i = 0; i < clips.size(); ++i) {
    const auto& c = clips[i];
    std::filesystem::path dir(c.clip_dir);
    if (!root.empty() && dir.is_relative()) dir = std::filesystem::path(root) / dir;
    try {
      const ClipRunner::Result r = runner.run({dir.string(), c.clip_dir});
      const Prediction& p = r.prediction;
      cm.add(c.label, p.index);
      nlohmann::json j = prediction_json(c.clip_dir, p, names);
      j["truth"] = names[c.label];
      j["truth_index"] = c.label;
      j["correct"] = p.index == c.label;
      j["face_boxes_used"] = r.face_boxes_used;
      if (detector) j["faces_detected"] = r.faces_detected;
      per_clip.push_back(j);
      csv += csv_quote(c.clip_dir) + "," + names[c.label] + "," + p.label + "," + (p.index == c.label ? "1" : "0");
      for (float v : p.probs) csv += "," + std::to_string(v);
      csv += "\n";
    } catch (const Error& e) {
      const std::string where = "list line " + std::to_string(c.line) + ", clip '" + c.clip_dir + "'";
      if (!a.has("keep-going")) throw Error(e.code(), where + ": " + e.what());
      progress.finish();
      std::fprintf(stderr, "clipcaer eval: skipped %s: %s\n", where.c_str(), e.what());
      failed.push_back({{"clip", c.clip_dir}, {"line", c.line}, {"error", e.what()}});
    }
    progress.update(i + 1);
  }
  progress.finish();

  const eval::Metrics m = eval::compute_metrics(cm);
  nlohmann::json recall = nlohmann::json::object(), samples = nlohmann::json::object();
  nlohmann::json confusion = nlohmann::json::array();
  for (std::size_t t = 0; t < names.size(); ++t) {
    recall[names[t]] = m.has_samples[t] ? nlohmann::json(m.recall[t]) : nlohmann::json(nullptr);
    samples[names[t]] = cm.row_total(t);
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t p = 0; p < names.size(); ++p) row.push_back(cm.at(t, p));
    confusion.push_back(row);
  }
  nlohmann::json report = {{"model", a.get("model")},
                           {"list", a.get("list")},
                           {"classes", names},
                           {"clips_evaluated", m.samples},
                           {"war", m.war},
                           {"uar", m.uar},
                           {"per_class_recall", recall},
                           {"per_class_samples", samples},
                           {"confusion", confusion},
                           {"confusion_axes", "rows: true class, columns: predicted class"},
                           {"clips", per_clip},
                           {"failed", failed},
                           {"seconds", progress.seconds()}};
  write_file(out_dir + "/report.json", report.dump(2) + "\n");
  write_file(out_dir + "/confusion.svg",
             eval::confusion_svg(cm, names, "CLIP-CAER on " + std::filesystem::path(a.get("list")).filename().string()));
  write_file(out_dir + "/predictions.csv", csv);

  std::printf("clips %zu  WAR %.2f %%  UAR %.2f %%\n", m.samples, 100 * m.war, 100 * m.uar);
  for (std::size_t t = 0; t < names.size(); ++t) {
    if (m.has_samples[t])
      std::printf("  %-14s recall %6.2f %%  (%zu clips)\n", names[t].c_str(), 100 * m.recall[t], cm.row_total(t));
    else
      std::printf("  %-14s recall      -    (no clips)\n", names[t].c_str());
  }
  std::printf("report: %s/report.json, %s/confusion.svg, %s/predictions.csv\n", out_dir.c_str(), out_dir.c_str(),
              out_dir.c_str());
  if (!failed.empty()) {
    std::fprintf(stderr, "clipcaer eval: %zu clip(s) failed; see report.json\n", failed.size());
    return 1;
  }
  return 0;
}

}  // namespace clipcaer::cli
