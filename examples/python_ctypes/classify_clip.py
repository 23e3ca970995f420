"""Classify one clip folder through the C ABI with ctypes only (no compiled
Python module): how any language with a C FFI uses libclipcaer.

usage: python3 classify_clip.py LIBCLIPCAER.so MODEL.safetensors CLIP_DIR [FACE_BOXES.json] [BODY_BOXES.json]
"""
import ctypes
import sys


def main(argv):
    if not 4 <= len(argv) <= 6:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    lib = ctypes.CDLL(argv[1])
    size_t, c_float_p = ctypes.c_size_t, ctypes.POINTER(ctypes.c_float)
    lib.clipcaer_last_error.restype = ctypes.c_char_p
    lib.clipcaer_model_load.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.clipcaer_model_free.argtypes = [ctypes.c_void_p]
    lib.clipcaer_model_num_classes.argtypes = [ctypes.c_void_p, ctypes.POINTER(size_t)]
    lib.clipcaer_model_class_name.argtypes = [ctypes.c_void_p, size_t, ctypes.POINTER(ctypes.c_char_p)]
    lib.clipcaer_classify_folder.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                             c_float_p, c_float_p, size_t, ctypes.POINTER(size_t)]

    def check(status):
        if status != 0:
            raise RuntimeError(lib.clipcaer_last_error().decode())

    model = ctypes.c_void_p()
    check(lib.clipcaer_model_load(argv[2].encode(), None, ctypes.byref(model)))
    try:
        classes = size_t()
        check(lib.clipcaer_model_num_classes(model, ctypes.byref(classes)))
        logits, probs, top = (ctypes.c_float * classes.value)(), (ctypes.c_float * classes.value)(), size_t()
        face_boxes = argv[4].encode() if len(argv) > 4 else None
        body_boxes = argv[5].encode() if len(argv) > 5 else None
        check(lib.clipcaer_classify_folder(model, argv[3].encode(), face_boxes, body_boxes, logits, probs,
                                           classes.value, ctypes.byref(top)))
        names = []
        for c in range(classes.value):
            name = ctypes.c_char_p()
            check(lib.clipcaer_model_class_name(model, c, ctypes.byref(name)))
            names.append(name.value.decode())
        print(f"clip {argv[3]}: {names[top.value]}")
        print("logits: " + " ".join(f"{v:.4f}" for v in logits))
        for name, p in zip(names, probs):
            print(f"  {name:<12} {100 * p:5.1f} %")
    finally:
        lib.clipcaer_model_free(model)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
