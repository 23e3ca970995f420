"""CLIP-CAER in float64 numpy, straight from a clipcaer weights file: an
implementation independent of the torch reference, to check that the
converted files and the goldens agree (shared/docs/MODEL.md)."""

import numpy as np

from st_format import bf16_bits_to_f32, f32_to_bf16_bits

CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073])
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711])


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention(q, k, v, heads, scale, causal=False):
    """q, k, v: (L, H*D) -> (L, H*D)."""
    n = q.shape[0]
    split = lambda t: t.reshape(n, heads, -1).transpose(1, 0, 2)
    s = split(q) @ split(k).transpose(0, 2, 1) * scale
    if causal:
        s = s + np.triu(np.full((n, n), -np.inf), 1)
    return (softmax(s) @ split(v)).transpose(1, 0, 2).reshape(n, -1)


def round_to_bfloat16(x):
    """x rounded to the nearest bfloat16 (ties to even, the converter's rounding), as float64."""
    return bf16_bits_to_f32(f32_to_bf16_bits(x)).astype(np.float64)


class NumpyModel:
    """visual_rounding: None, or a function applied to both operands (the
    activations and the weights) of the image tower's residual-block Linears,
    the layers that a reduced `dtype` stores in that type."""

    def __init__(self, tensors, config, visual_rounding=None):
        self.t = {k: np.asarray(v, np.float64) for k, v in tensors.items() if v.dtype.kind == "f"}
        self.c = config
        self.visual_rounding = visual_rounding

    def block(self, prefix, x, heads, causal=False, rounding=None):
        t = self.t
        r = rounding or (lambda a: a)

        def linear(a, name):
            return r(a) @ r(t[prefix + name + "weight"]).T + t[prefix + name + "bias"]

        h = layer_norm(x, t[prefix + "ln_1.weight"], t[prefix + "ln_1.bias"])
        q, k, v = np.split(linear(h, "attn.in_proj_"), 3, axis=-1)
        a = attention(q, k, v, heads, (x.shape[-1] // heads) ** -0.5, causal)
        x = x + linear(a, "attn.out_proj.")
        h = layer_norm(x, t[prefix + "ln_2.weight"], t[prefix + "ln_2.bias"])
        h = linear(h, "mlp.c_fc.")
        h = h / (1 + np.exp(-1.702 * h))
        return x + linear(h, "mlp.c_proj.")

    def encode_image(self, image):
        """(3, S, S) -> (E,), no normalisation of the input here."""
        t, v = self.t, self.c["vision"]
        p, grid = v["patch_size"], v["image_size"] // v["patch_size"]
        patches = image.reshape(3, grid, p, grid, p).transpose(1, 3, 0, 2, 4).reshape(grid * grid, -1)
        x = patches @ t["visual.conv1.weight"].reshape(v["width"], -1).T
        x = np.concatenate([t["visual.class_embedding"][None], x]) + t["visual.positional_embedding"]
        x = layer_norm(x, t["visual.ln_pre.weight"], t["visual.ln_pre.bias"])
        for i in range(v["layers"]):
            x = self.block(f"visual.transformer.resblocks.{i}.", x, v["heads"], rounding=self.visual_rounding)
        return layer_norm(x[0], t["visual.ln_post.weight"], t["visual.ln_post.bias"]) @ t["visual.proj"]

    def encode_clip_image(self, image):
        """Plain CLIP: [0, 1] pixels, CLIP mean/std applied here."""
        return self.encode_image((image - CLIP_MEAN[:, None, None]) / CLIP_STD[:, None, None])

    def text_tower(self, x, eot):
        t, c = self.t, self.c["text"]
        x = x + t["positional_embedding"]
        for i in range(c["layers"]):
            x = self.block(f"transformer.resblocks.{i}.", x, c["heads"], causal=True)
        x = layer_norm(x, t["ln_final.weight"], t["ln_final.bias"])
        return x[eot] @ t["text_projection"]

    def encode_text(self, ids):
        return self.text_tower(self.t["token_embedding.weight"][ids], int(np.argmax(ids)))

    def text_features(self):
        t, c = self.t, self.c
        ctx = t["prompt_learner.ctx"]
        out = []
        for k in range(c["num_classes"]):
            prompt = np.concatenate([t["prompt_learner.token_prefix"][k], ctx[k] if ctx.ndim == 3 else ctx,
                                     t["prompt_learner.token_suffix"][k]])
            f = self.text_tower(prompt, c["eot_positions"][k])
            out.append(f / np.linalg.norm(f))
        return np.stack(out)

    def temporal(self, net, x):
        t, tc = self.t, self.c["temporal"]
        n = x.shape[0]
        x = np.concatenate([t[net + ".cls_token"][0], x]) + t[net + ".pos_embedding"][0, :n + 1]
        for d in range(tc["depth"]):
            a = f"{net}.temporal_transformer.layers.{d}.0.fn."
            h = layer_norm(x, t[a + "norm.weight"], t[a + "norm.bias"])
            q, k, v = np.split(h @ t[a + "fn.to_qkv.weight"].T, 3, axis=-1)
            o = attention(q, k, v, tc["heads"], tc["dim_head"] ** -0.5)
            x = x + o @ t[a + "fn.to_out.0.weight"].T + t[a + "fn.to_out.0.bias"]
            f = f"{net}.temporal_transformer.layers.{d}.1.fn."
            h = layer_norm(x, t[f + "norm.weight"], t[f + "norm.bias"])
            h = h @ t[f + "fn.net.0.weight"].T + t[f + "fn.net.0.bias"]
            h = 0.5 * h * (1 + np.tanh(np.sqrt(2 / np.pi) * (h + 0.044715 * h ** 3)))
            x = x + h @ t[f + "fn.net.3.weight"].T + t[f + "fn.net.3.bias"]
        return x[0]

    def classify(self, faces, frames):
        """One clip (T', 3, S, S) each -> dict of the fixture output names."""
        t = self.t
        face_image = np.stack([self.encode_image(im) for im in np.asarray(faces, np.float64)])
        context_image = np.stack([self.encode_image(im) for im in np.asarray(frames, np.float64)])
        face_video = self.temporal("temporal_net", face_image)
        context_video = self.temporal("temporal_net_body", context_image)
        video = np.concatenate([face_video, context_video]) @ t["project_fc.weight"].T + t["project_fc.bias"]
        video = video / np.linalg.norm(video)
        text = self.text_features()
        logits = 100.0 * text @ video
        return dict(face_image_features=face_image, context_image_features=context_image,
                    face_video_features=face_video, context_video_features=context_video,
                    video_features=video, text_features=text, logits=logits, probs=softmax(logits))
