"""The spec of a clipcaer weights file: which tensors a model needs, their
shapes as functions of the config, where each comes from in a checkpoint,
and how the config is derived from tensor shapes (see docs/weights.md)."""

import re
from collections import OrderedDict

import numpy as np

from errors import ConvertError

BLOCK_TENSORS = (
    "ln_1.weight", "ln_1.bias", "attn.in_proj_weight", "attn.in_proj_bias",
    "attn.out_proj.weight", "attn.out_proj.bias", "ln_2.weight", "ln_2.bias",
    "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
)
TEXT_TOWER = ("positional_embedding", "ln_final.weight", "ln_final.bias", "text_projection")
TEMPORAL_NETS = ("temporal_net", "temporal_net_body")

# Matrix weights stored as BF16 with --dtype bfloat16 (everything else stays F32).
_MATRIX = re.compile(
    r"(attn\.in_proj_weight|attn\.out_proj\.weight|mlp\.c_fc\.weight|mlp\.c_proj\.weight|"
    r"to_qkv\.weight|to_out\.0\.weight|net\.0\.weight|net\.3\.weight)$"
    r"|^(visual\.conv1\.weight|visual\.proj|text_projection|project_fc\.weight)$")


def is_matrix_weight(name):
    return bool(_MATRIX.search(name))


def _block_shapes(prefix, width):
    w = width
    shapes = {
        "ln_1.weight": (w,), "ln_1.bias": (w,),
        "attn.in_proj_weight": (3 * w, w), "attn.in_proj_bias": (3 * w,),
        "attn.out_proj.weight": (w, w), "attn.out_proj.bias": (w,),
        "ln_2.weight": (w,), "ln_2.bias": (w,),
        "mlp.c_fc.weight": (4 * w, w), "mlp.c_fc.bias": (4 * w,),
        "mlp.c_proj.weight": (w, 4 * w), "mlp.c_proj.bias": (w,),
    }
    return [(prefix + k, shapes[k]) for k in BLOCK_TENSORS]


def expected_shapes(model_type, config):
    """Ordered {file tensor name: shape} a model with this config needs."""
    v, t, e = config["vision"], config["text"], config["embed_dim"]
    wv, p, grid = v["width"], v["patch_size"], v["image_size"] // v["patch_size"]
    out = [
        ("visual.conv1.weight", (wv, 3, p, p)),
        ("visual.class_embedding", (wv,)),
        ("visual.positional_embedding", (grid * grid + 1, wv)),
        ("visual.ln_pre.weight", (wv,)), ("visual.ln_pre.bias", (wv,)),
    ]
    for i in range(v["layers"]):
        out += _block_shapes(f"visual.transformer.resblocks.{i}.", wv)
    out += [("visual.ln_post.weight", (wv,)), ("visual.ln_post.bias", (wv,)), ("visual.proj", (wv, e))]
    wt, n = t["width"], t["context_length"]
    out += [("token_embedding.weight", (t["vocab_size"], wt)), ("positional_embedding", (n, wt))]
    for i in range(t["layers"]):
        out += _block_shapes(f"transformer.resblocks.{i}.", wt)
    out += [("ln_final.weight", (wt,)), ("ln_final.bias", (wt,)), ("text_projection", (wt, e))]
    if model_type == "clip":
        return OrderedDict(out)
    c, k = config["num_classes"], config["n_ctx"]
    out += [
        ("prompt_learner.ctx", (c, k, wt) if config["class_specific_ctx"] else (k, wt)),
        ("prompt_learner.token_prefix", (c, 1, wt)),
        ("prompt_learner.token_suffix", (c, n - 1 - k, wt)),
    ]
    tm = config["temporal"]
    inner, mlp = tm["heads"] * tm["dim_head"], tm["mlp_dim"]
    for net in TEMPORAL_NETS:
        out += [(f"{net}.cls_token", (1, 1, e)), (f"{net}.pos_embedding", (1, tm["num_frames"] + 1, e))]
        for d in range(tm["depth"]):
            a = f"{net}.temporal_transformer.layers.{d}.0.fn."
            f = f"{net}.temporal_transformer.layers.{d}.1.fn."
            out += [
                (a + "norm.weight", (e,)), (a + "norm.bias", (e,)),
                (a + "fn.to_qkv.weight", (3 * inner, e)),
                (a + "fn.to_out.0.weight", (e, inner)), (a + "fn.to_out.0.bias", (e,)),
                (f + "norm.weight", (e,)), (f + "norm.bias", (e,)),
                (f + "fn.net.0.weight", (mlp, e)), (f + "fn.net.0.bias", (mlp,)),
                (f + "fn.net.3.weight", (e, mlp)), (f + "fn.net.3.bias", (e,)),
            ]
    out += [("project_fc.weight", (e, 2 * e)), ("project_fc.bias", (e,))]
    return OrderedDict(out)


def detect_model_type(state_dict):
    keys = state_dict.keys()
    if any(k.startswith(("image_encoder.", "prompt_learner.", "temporal_net.")) for k in keys):
        return "clip-caer"
    if "visual.proj" in state_dict or any(k.startswith("visual.transformer.") for k in keys):
        return "clip"
    return None


def source_names(model_type, name):
    """Checkpoint names a file tensor may come from, preferred first. In the
    official model image_encoder / text_encoder share their modules with
    clip_model_, so both copies are identical; should they differ, torch's
    load_state_dict would leave clip_model_'s (loaded last), so that one wins."""
    if model_type == "clip":
        return [name]
    if name.startswith("visual."):
        return ["clip_model_." + name, "image_encoder." + name[len("visual."):]]
    if name == "token_embedding.weight":
        return ["clip_model_." + name]
    if name.startswith("transformer.") or name in TEXT_TOWER:
        return ["clip_model_." + name, "text_encoder." + name]
    return [name]


class StateDict:
    """A checkpoint's tensors with errors that name the file and tensor."""

    def __init__(self, tensors, path, model_type):
        self.tensors = tensors
        self.path = path
        self.model_type = model_type

    def find(self, name):
        """(array, checkpoint name) for file tensor `name`."""
        candidates = source_names(self.model_type, name)
        for key in candidates:
            if key in self.tensors:
                return self.tensors[key], key
        alternatives = "".join(f" (or '{k}')" for k in candidates[1:])
        raise ConvertError(f"{self.path}: missing tensor '{candidates[0]}'{alternatives}")

    def shape_of(self, name, ndim, expected):
        array, key = self.find(name)
        if array.ndim != ndim:
            raise ConvertError(
                f"{self.path}: tensor '{key}' has shape {tuple(array.shape)}, expected {expected}")
        return array.shape

    def count_blocks(self, prefix):
        """Number of numbered blocks under file name `prefix` (e.g. "transformer.resblocks.")."""
        sources = [name[:-1] for name in source_names(self.model_type, prefix + "0")]
        for source in sources:
            found = {int(m.group(1)) for m in (re.match(re.escape(source) + r"(\d+)\.", k) for k in self.tensors) if m}
            if found:
                return max(found) + 1
        raise ConvertError(f"{self.path}: missing tensors '{sources[0]}0.*' (no blocks found)")

    def fail_shape(self, name, message):
        _, key = self.find(name)
        raise ConvertError(f"{self.path}: tensor '{key}' {message}")


def derive_config(sd, temporal_heads=8):
    """The config of docs/weights.md from tensor shapes (eot_positions and
    classes are filled in later)."""
    wv, c3, p, p2 = sd.shape_of("visual.conv1.weight", 4, "(width, 3, patch, patch)")
    if c3 != 3 or p != p2 or p == 0:
        sd.fail_shape("visual.conv1.weight", f"has shape {(wv, c3, p, p2)}, expected (width, 3, patch, patch)")
    rows, _ = sd.shape_of("visual.positional_embedding", 2, "(grid*grid + 1, width)")
    grid = int(round(max(rows - 1, 0) ** 0.5))
    if grid < 1 or grid * grid + 1 != rows:
        sd.fail_shape("visual.positional_embedding", f"has {rows} rows, expected grid*grid + 1")
    _, embed_dim = sd.shape_of("visual.proj", 2, "(width, embed_dim)")
    wt = sd.shape_of("ln_final.weight", 1, "(width,)")[0]
    context_length, _ = sd.shape_of("positional_embedding", 2, "(context_length, width)")
    vocab_size, _ = sd.shape_of("token_embedding.weight", 2, "(vocab_size, width)")
    for name, width in (("visual.conv1.weight", wv), ("ln_final.weight", wt)):
        if width % 64 or width == 0:
            sd.fail_shape(name, f"gives width {width}, which is not a multiple of 64 (heads = width / 64)")
    config = OrderedDict(
        vision=OrderedDict(width=wv, layers=sd.count_blocks("visual.transformer.resblocks."),
                           heads=wv // 64, patch_size=p, image_size=p * grid),
        text=OrderedDict(width=wt, layers=sd.count_blocks("transformer.resblocks."), heads=wt // 64,
                         context_length=context_length, vocab_size=vocab_size),
        embed_dim=embed_dim,
    )
    if sd.model_type == "clip":
        config["num_classes"] = 0
        config["logit_scale"] = float(np.exp(np.float64(sd.find("logit_scale")[0].reshape(-1)[0])))
        config["input_normalization"] = "clip"
        return config

    num_classes = sd.shape_of("prompt_learner.token_prefix", 3, "(classes, 1, width)")[0]
    ctx_shape = sd.find("prompt_learner.ctx")[0].shape
    if len(ctx_shape) not in (2, 3):
        sd.fail_shape("prompt_learner.ctx", f"has shape {ctx_shape}, expected (classes, n_ctx, width) or (n_ctx, width)")
    frames = sd.shape_of("temporal_net.pos_embedding", 3, "(1, frames + 1, embed_dim)")[1] - 1
    if frames < 1:
        sd.fail_shape("temporal_net.pos_embedding", "has no rows for frames, expected (1, frames + 1, embed_dim)")
    depth = sd.count_blocks("temporal_net.temporal_transformer.layers.")
    qkv_rows = sd.shape_of("temporal_net.temporal_transformer.layers.0.0.fn.fn.to_qkv.weight", 2, "(3 * inner, embed_dim)")[0]
    if qkv_rows % 3 or (qkv_rows // 3) % temporal_heads:
        sd.fail_shape("temporal_net.temporal_transformer.layers.0.0.fn.fn.to_qkv.weight",
                      f"has {qkv_rows} rows: not 3 x a multiple of {temporal_heads} temporal heads (--temporal-heads)")
    mlp_dim = sd.shape_of("temporal_net.temporal_transformer.layers.0.1.fn.fn.net.0.weight", 2, "(mlp_dim, embed_dim)")[0]
    config["temporal"] = OrderedDict(num_frames=frames, depth=depth, heads=temporal_heads,
                                     dim_head=qkv_rows // 3 // temporal_heads, mlp_dim=mlp_dim)
    config["n_ctx"] = ctx_shape[-2]
    config["class_specific_ctx"] = len(ctx_shape) == 3
    config["num_classes"] = num_classes
    config["eot_positions"] = []
    config["logit_scale"] = 100.0
    config["input_normalization"] = "none"
    return config


def collect_tensors(sd, config, warn):
    """{file name: float32 array} for every tensor the config needs, each
    checked for presence, shape, dtype and finite values; warns when the
    duplicate copies in the checkpoint differ."""
    out = OrderedDict()
    differing = []
    for name, shape in expected_shapes(sd.model_type, config).items():
        array, key = sd.find(name)
        if tuple(array.shape) != shape:
            raise ConvertError(f"{sd.path}: tensor '{key}' has shape {tuple(array.shape)}, expected {shape}")
        if array.dtype.kind != "f":
            raise ConvertError(f"{sd.path}: tensor '{key}' has dtype {array.dtype}, expected floating point")
        array = np.asarray(array, np.float32, order="C")
        bad = array.size - int(np.count_nonzero(np.isfinite(array)))
        if bad:
            raise ConvertError(f"{sd.path}: tensor '{key}' has {bad} non-finite values")
        for other in source_names(sd.model_type, name)[1:]:
            twin = sd.tensors.get(other)
            if twin is not None and not (twin.shape == array.shape and np.array_equal(twin, array)):
                differing.append(other)
        out[name] = array
    if differing:
        warn(f"{sd.path}: {len(differing)} tensors differ from their clip_model_.* twins "
             f"(e.g. '{differing[0]}'); converted the clip_model_.* copies, which torch's "
             "load_state_dict would keep")
    return out


def find_eot_positions(sd, config, tensors):
    """Row of the EOT token in each class's prompt: the first suffix row equal
    to the embedding of the last vocabulary entry."""
    eot = tensors["token_embedding.weight"][-1]
    suffix = tensors["prompt_learner.token_suffix"]
    hits = np.all(suffix == eot, axis=-1)
    positions = []
    for c in range(suffix.shape[0]):
        rows = np.flatnonzero(hits[c])
        if rows.size == 0:
            raise ConvertError(
                f"{sd.path}: 'prompt_learner.token_suffix' class {c} has no row equal to the EOT "
                f"embedding token_embedding.weight[{eot_index(config)}]")
        positions.append(1 + config["n_ctx"] + int(rows[0]))
    return positions


def eot_index(config):
    return config["text"]["vocab_size"] - 1


def find_state_dict(obj, path):
    """The tensors of a checkpoint dict ({'state_dict': ...}) or a bare state
    dict, with a DataParallel `module.` prefix removed."""
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        kind = getattr(obj, "qualname", type(obj).__name__)
        raise ConvertError(f"{path}: holds a {kind} object, not a state dict or a checkpoint dict")
    tensors = OrderedDict((k, v) for k, v in obj.items() if isinstance(k, str) and isinstance(v, np.ndarray))
    if not tensors:
        raise ConvertError(f"{path}: holds a dict without tensors (keys: {', '.join(map(str, list(obj)[:6]))})")
    if all(k.startswith("module.") for k in tensors):
        tensors = OrderedDict((k[len("module."):], v) for k, v in tensors.items())
    return tensors
