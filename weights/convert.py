#!/usr/bin/env python3
"""Converts an official CLIP-CAER checkpoint (or an OpenAI-layout CLIP state
dict) into the clipcaer .safetensors file described in docs/weights.md.

    python3 weights/convert.py model_best.pth -o clip_caer.safetensors \\
        [--classes classes.json] [--vocab bpe_simple_vocab_16e6.txt.gz] \\
        [--temporal-heads 8] [--dtype float32|bfloat16]
        [--compute-dtype float32|bfloat16|int8]

Needs numpy only; the checkpoint is read without executing pickled code.
"""

import argparse
import gzip
import json
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bpe_tokenizer import Tokenizer  # noqa: E402
from ckpt_reader import load_checkpoint  # noqa: E402
from class_list import RAER_CLASSES, load_classes  # noqa: E402
from errors import ConvertError  # noqa: E402
from model_spec import (StateDict, collect_tensors, derive_config, detect_model_type,  # noqa: E402
                        find_eot_positions, find_state_dict, is_matrix_weight)
from st_format import f32_to_bf16_bits, write_safetensors  # noqa: E402

CONVERTER_VERSION = "1"
VOCAB_TENSOR = "tokenizer.bpe_vocab_gz"


def _warn(message):
    print(f"convert.py: warning: {message}", file=sys.stderr)


def read_vocab(path):
    """The gzip merges file's bytes, after checking it is one."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ConvertError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        first = gzip.decompress(raw).split(b"\n", 1)[0]
    except (OSError, EOFError, zlib.error) as e:
        raise ConvertError(f"{path}: not a gzip file: {e}") from None
    if b"#version" not in first:  # CLIP's file starts: "bpe_simple_vocab_16e6.txt#version: 0.2
        raise ConvertError(f"{path}: not a CLIP BPE merges file (no '#version' on its first line)")
    return raw


def check_descriptors(sd, config, tensors, classes, tokenizer, vocab_path, warn):
    """Tokenises each class's prompt as the training code did ("X " * n_ctx +
    descriptor) and checks the checkpoint's stored suffix embeddings match."""
    text = config["text"]
    if text["vocab_size"] != tokenizer.vocab_size:
        warn(f"{sd.path}: vocabulary of {text['vocab_size']} tokens, {vocab_path} has "
             f"{tokenizer.vocab_size}: descriptors not checked against the checkpoint")
        return
    n_ctx, length = config["n_ctx"], text["context_length"]
    embedding = tensors["token_embedding.weight"]
    suffix = tensors["prompt_learner.token_suffix"]
    for c, cls in enumerate(classes):
        prompt = " ".join(["X"] * n_ctx) + " " + cls["descriptor"]
        ids = tokenizer.tokenize(prompt, length)[1 + n_ctx:]
        rows = np.all(embedding[ids] == suffix[c], axis=-1)
        if not rows.all():
            raise ConvertError(
                f"{sd.path}: class {c} ({cls['name']}): descriptor {cls['descriptor']!r} does not match the "
                f"checkpoint's prompt (token {1 + n_ctx + int(np.argmin(rows))} differs); "
                "pass the classes the model was trained with (--classes)")


COMPUTE_DTYPES = ("float32", "bfloat16", "int8")


def convert(checkpoint, out, classes_path=None, vocab_path=None, temporal_heads=8, dtype="float32",
            source=None, warn=_warn, compute_dtype=None):
    """Writes `out`; returns (model_type, config, classes, tensor count, file size)."""
    if temporal_heads < 1:
        raise ConvertError(f"--temporal-heads must be positive, got {temporal_heads}")
    if dtype not in ("float32", "bfloat16"):
        raise ConvertError(f"--dtype must be float32 or bfloat16, got {dtype}")
    if compute_dtype is not None and compute_dtype not in COMPUTE_DTYPES:
        raise ConvertError(f"--compute-dtype must be one of {', '.join(COMPUTE_DTYPES)}, got {compute_dtype}")
    # Read the small inputs first so their errors come before a long load.
    classes = load_classes(classes_path) if classes_path else None
    vocab = read_vocab(vocab_path) if vocab_path else None

    tensors = find_state_dict(load_checkpoint(checkpoint), checkpoint)
    model_type = detect_model_type(tensors)
    if model_type is None:
        raise ConvertError(
            f"{checkpoint}: neither a CLIP-CAER checkpoint (no image_encoder.*, prompt_learner.*) nor a "
            f"CLIP state dict (no visual.*); first keys: {', '.join(list(tensors)[:4])}")
    sd = StateDict(tensors, checkpoint, model_type)
    config = derive_config(sd, temporal_heads)
    arrays = collect_tensors(sd, config, warn)

    if model_type == "clip":
        if classes_path:
            warn(f"{classes_path}: ignored for a plain CLIP model")
        classes = []
    else:
        count = config["num_classes"]
        if classes is None:
            if count != len(RAER_CLASSES):
                raise ConvertError(
                    f"{checkpoint}: has {count} classes, the default RAER classes are {len(RAER_CLASSES)}; "
                    "pass their names and descriptors with --classes FILE.json")
            classes = [dict(c) for c in RAER_CLASSES]
        elif len(classes) != count:
            raise ConvertError(f"{classes_path}: lists {len(classes)} classes, but {checkpoint} has {count}")
        config["eot_positions"] = find_eot_positions(sd, config, arrays)
        if vocab is not None:
            check_descriptors(sd, config, arrays, classes, Tokenizer(vocab_path), vocab_path, warn)

    entries = []
    for name, array in arrays.items():
        if dtype == "bfloat16" and is_matrix_weight(name):
            entries.append((name, "BF16", f32_to_bf16_bits(array)))
        else:
            entries.append((name, "F32", array))
    if vocab is not None:
        entries.append((VOCAB_TENSOR, "U8", np.frombuffer(vocab, np.uint8)))
    metadata = {
        "format": "clipcaer",
        "format_version": "1",
        "model_type": model_type,
        "config": json.dumps(config),
        "classes": json.dumps(classes, ensure_ascii=False),
        "source": source or f"clipcaer weights/convert.py {CONVERTER_VERSION} from {os.path.basename(checkpoint)}",
    }
    if compute_dtype is not None:
        metadata["compute_dtype"] = compute_dtype  # the loader's default weight type (docs/weights.md)
    try:
        write_safetensors(out, entries, metadata)
    except OSError as e:
        raise ConvertError(f"{out}: cannot write: {e.strerror or e}") from None
    return model_type, config, classes, len(entries), os.path.getsize(out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="convert.py", description="Convert a CLIP-CAER checkpoint or a CLIP state dict to clipcaer .safetensors.")
    parser.add_argument("checkpoint", help="model_best.pth (torch.save zip), a bare state dict, or a CLIP state dict")
    parser.add_argument("-o", "--output", required=True, help="output .safetensors file")
    parser.add_argument("--classes", help='JSON {"classes": [{"name": ..., "descriptor": ...}, ...]} '
                                          "(default: RAER's five classes)")
    parser.add_argument("--vocab", help="CLIP BPE merges file (bpe_simple_vocab_16e6.txt.gz) to embed; "
                                        "also checks the descriptors against the checkpoint's prompts")
    parser.add_argument("--temporal-heads", type=int, default=8, help="heads of the temporal transformers (8)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                        help="storage type of the matrix weights in the file (float32)")
    parser.add_argument("--compute-dtype", choices=COMPUTE_DTYPES,
                        help="weight type the loader uses by default (float32 when not given); int8 is "
                             "quantised at load from the stored weights")
    args = parser.parse_args(argv)
    try:
        model_type, config, classes, count, size = convert(
            args.checkpoint, args.output, args.classes, args.vocab, args.temporal_heads, args.dtype,
            compute_dtype=args.compute_dtype)
    except ConvertError as e:
        print(f"convert.py: error: {e}", file=sys.stderr)
        return 1
    v, t = config["vision"], config["text"]
    summary = (f"vision {v['width']}x{v['layers']} patch {v['patch_size']} image {v['image_size']}, "
               f"text {t['width']}x{t['layers']}, embed {config['embed_dim']}")
    if model_type == "clip-caer":
        summary += (f", frames {config['temporal']['num_frames']}, temporal depth {config['temporal']['depth']}, "
                    f"n_ctx {config['n_ctx']}, classes {', '.join(c['name'] for c in classes)}")
    print(f"wrote {args.output}: {model_type}, {count} tensors, {size / 1e6:.1f} MB ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
