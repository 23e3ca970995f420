// Classify one clip folder with the C++ API.
// usage: classify_clip MODEL.safetensors CLIP_DIR [FACE_BOXES.json] [BODY_BOXES.json]
#include <clipcaer/clipcaer.hpp>
#include <clipcaer/io/box_index.hpp>
#include <clipcaer/preprocess/clip.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: %s MODEL.safetensors CLIP_DIR [FACE_BOXES.json] [BODY_BOXES.json]\n", argv[0]);
    return 2;
  }
  try {
    clipcaer::Model model(argv[1]);
    const clipcaer::io::BoxIndex boxes(argc > 3 ? argv[3] : "", argc > 4 ? argv[4] : "");
    // The official test-mode pipeline: T frames sampled, face crops and letterboxed context frames.
    clipcaer::Clip clip = clipcaer::load_clip(argv[2], boxes.lookup({argv[2]}), model.num_frames(), model.image_size());
    clipcaer::Prediction p = model.classify_clip(clip.faces, clip.frames);

    std::printf("clip %s: %s\n", argv[2], p.label.c_str());
    std::printf("logits:");
    for (float v : p.logits) std::printf(" %.4f", v);
    std::printf("\n");
    for (std::size_t c = 0; c < p.probs.size(); ++c)
      std::printf("  %-12s %5.1f %%\n", model.class_names()[c].c_str(), 100.0 * p.probs[c]);
  } catch (const clipcaer::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
