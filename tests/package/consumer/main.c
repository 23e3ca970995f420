/* Classifies a mid-grey clip with the C API and prints the top class. */
#include <clipcaer.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  clipcaer_model* model = NULL;
  size_t frames = 0, size = 0, classes = 0, top = 0, i;
  const char* label = NULL;
  float *clip, *logits;
  if (argc != 2) {
    fprintf(stderr, "usage: consumer_c MODEL.safetensors\n");
    return 2;
  }
  if (clipcaer_model_load(argv[1], NULL, &model) != CLIPCAER_OK) {
    fprintf(stderr, "error: %s\n", clipcaer_last_error());
    return 1;
  }
  clipcaer_model_num_frames(model, &frames);
  clipcaer_model_image_size(model, &size);
  clipcaer_model_num_classes(model, &classes);
  clip = malloc(frames * 3 * size * size * sizeof(float));
  logits = malloc(classes * sizeof(float));
  for (i = 0; i < frames * 3 * size * size; ++i) clip[i] = 0.5f;
  if (clipcaer_classify_clip(model, clip, clip, frames, logits, NULL, classes, &top) != CLIPCAER_OK ||
      clipcaer_model_class_name(model, top, &label) != CLIPCAER_OK) {
    fprintf(stderr, "error: %s\n", clipcaer_last_error());
    return 1;
  }
  printf("c %s %.6f\n", label, logits[top]);
  free(clip);
  free(logits);
  clipcaer_model_free(model);
  return 0;
}
