// Classifies a mid-grey clip with the C++ API and prints the top class.
#include <clipcaer/model.hpp>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer_cpp MODEL.safetensors\n");
    return 2;
  }
  try {
    clipcaer::Model model(argv[1]);
    const std::size_t T = model.num_frames(), S = model.image_size();
    std::vector<float> clip(T * 3 * S * S, 0.5f);
    clipcaer::Prediction p = model.classify_clip(clip.data(), clip.data(), T);
    std::printf("cpp %s %.6f\n", p.label.c_str(), p.logits[p.index]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
