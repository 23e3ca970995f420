// clipcaer: classify clips, evaluate on a labelled list, inspect a model.
// Exit codes: 0 ok, 1 failure (message on stderr), 2 usage error.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "args.hpp"
#include "clipcaer/core/error.hpp"
#include "clipcaer/detect/face_detector.hpp"
#include "clipcaer/gpu/open_device.hpp"
#include "clipcaer/io/image_decode.hpp"
#include "clipcaer/io/video.hpp"
#include "clipcaer/kernels/dispatch.hpp"
#include "clipcaer/version.hpp"
#include "commands.hpp"

namespace {

// The kernel sets this CPU runs, best first, and the one models will use
// (CLIPCAER_ISA may force another): what to quote in a bug report, and what
// decides which dtype pays (docs/api-cpp.md, "Choosing a dtype").
void print_kernel_sets() {
  namespace k = clipcaer::kernels;
  std::printf("kernel sets on this CPU, best first: %s\n", k::usable_table_list().c_str());
  try {
    std::printf("kernel set used: %s\n", k::best_table().name);
  } catch (const clipcaer::Error& e) {
    std::printf("kernel set used: none (%s)\n", e.what());
  }
}

// Whether --device cuda can work here.
void print_cuda() {
  namespace g = clipcaer::gpu;
  if (!g::cuda_built())
    std::printf("CUDA: not in this build (configure with -DCLIPCAER_CUDA=ON)\n");
  else
    std::printf("CUDA: built; %d device(s) visible\n", g::cuda_device_count());
}

// How JPEG frames are decoded (libjpeg-turbo matches the official loader's
// Pillow bit for bit) and what reads video files.
void print_decoders() {
  std::printf("JPEG decoder: %s\n", clipcaer::io::jpeg_decoder().c_str());
  if (clipcaer::io::video_supported())
    std::printf("Video decoder: %s\n", clipcaer::io::video_decoder().c_str());
  else
    std::printf("Video decoder: not in this build (configure with -DCLIPCAER_VIDEO=ON)\n");
  // Where --detect-faces finds its default cascades (a data package, so say whether it is there).
  try {
    std::printf("Face cascades: %s\n", clipcaer::find_cascade("haarcascades/haarcascade_frontalface_alt2.xml").c_str());
  } catch (const clipcaer::Error&) {
    std::printf("Face cascades: not installed (apt-get install opencv-data, for --detect-faces)\n");
  }
}

const char* const kUsage =
    "usage: clipcaer <command> [options]\n"
    "\n"
    "commands:\n"
    "  classify  --model M.safetensors CLIP...       classify clips: frame folders or videos\n"
    "  timeline  --model M.safetensors VIDEO...      classify a long video window by window\n"
    "  eval      --model M --list test.txt           WAR, UAR, confusion matrix on a labelled list\n"
    "  info      M.safetensors                       config, classes, size of a model\n"
    "\n"
    "  clipcaer <command> --help   options of one command\n"
    "  clipcaer --version\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace clipcaer::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("clipcaer %s\n", CLIPCAER_VERSION_STRING);
    print_kernel_sets();
    print_cuda();
    print_decoders();
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  struct Command {
    const char* name;
    int (*run)(const std::vector<std::string>&);
    const char* help;
  };
  const Command commands[] = {{"classify", run_classify, kClassifyHelp},
                              {"timeline", run_timeline, kTimelineHelp},
                              {"eval", run_eval, kEvalHelp},
                              {"info", run_info, kInfoHelp}};
  for (const Command& c : commands) {
    if (command != c.name) continue;
    for (const auto& a : args)
      if (a == "--help" || a == "-h") {
        std::fputs(c.help, stdout);
        return 0;
      }
    try {
      return c.run(args);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "clipcaer %s: %s\n\n%s", c.name, e.what(), c.help);
      return 2;
    } catch (const clipcaer::Error& e) {
      std::fprintf(stderr, "clipcaer %s: error: %s\n", c.name, e.what());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "clipcaer %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "clipcaer: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
