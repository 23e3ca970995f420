/* Classify one clip folder with the C API.
 * usage: classify_clip_c MODEL.safetensors CLIP_DIR [FACE_BOXES.json] [BODY_BOXES.json] */
#include <clipcaer.h>

#include <stdio.h>

int main(int argc, char** argv) {
  clipcaer_model* model = NULL;
  float logits[64], probs[64];
  size_t classes = 0, top = 0, c;
  const char* name = NULL;
  if (argc < 3 || argc > 5) {
    fprintf(stderr, "usage: %s MODEL.safetensors CLIP_DIR [FACE_BOXES.json] [BODY_BOXES.json]\n", argv[0]);
    return 2;
  }
  if (clipcaer_model_load(argv[1], NULL, &model) != CLIPCAER_OK ||
      clipcaer_model_num_classes(model, &classes) != CLIPCAER_OK || classes > 64 ||
      clipcaer_classify_folder(model, argv[2], argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL, logits, probs,
                               64, &top) != CLIPCAER_OK ||
      clipcaer_model_class_name(model, top, &name) != CLIPCAER_OK) {
    fprintf(stderr, "error: %s\n", clipcaer_last_error());
    clipcaer_model_free(model);
    return 1;
  }
  printf("clip %s: %s\n", argv[2], name);
  printf("logits:");
  for (c = 0; c < classes; ++c) printf(" %.4f", logits[c]);
  printf("\n");
  for (c = 0; c < classes; ++c) {
    clipcaer_model_class_name(model, c, &name);
    printf("  %-12s %5.1f %%\n", name, 100.0 * probs[c]);
  }
  clipcaer_model_free(model);
  return 0;
}
