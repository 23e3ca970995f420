"""PyTorch reference of CLIP-CAER (docs: shared/docs/MODEL.md), written for
clipcaer's tests. Its state_dict() keys are those of the official checkpoint
(image_encoder.*, clip_model_.*, text_encoder.*, prompt_learner.*,
temporal_net.*, temporal_net_body.*, project_fc.*), with the same module
sharing: image_encoder is clip_model_.visual and text_encoder holds
clip_model_'s text modules, so torch.save stores each tensor once.

Also a plain CLIP (`CLIP.encode_image` on [0, 1] pixels with CLIP's mean/std,
`CLIP.encode_text` on token ids) for zero-shot tests.
"""

import math
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class Config:
    vision_width: int = 768
    vision_layers: int = 12
    patch_size: int = 32
    image_size: int = 224
    text_width: int = 512
    text_layers: int = 12
    context_length: int = 77
    vocab_size: int = 49408
    embed_dim: int = 512
    num_frames: int = 16
    temporal_depth: int = 1
    temporal_heads: int = 8
    temporal_dim_head: int = 64
    temporal_mlp_dim: int = 1024
    n_ctx: int = 8
    num_classes: int = 5
    class_specific_ctx: bool = True

    @classmethod
    def from_file_config(cls, c):
        """From the `config` metadata of a clipcaer file (docs/weights.md)."""
        v, t = c["vision"], c["text"]
        out = cls(vision_width=v["width"], vision_layers=v["layers"], patch_size=v["patch_size"],
                  image_size=v["image_size"], text_width=t["width"], text_layers=t["layers"],
                  context_length=t["context_length"], vocab_size=t["vocab_size"], embed_dim=c["embed_dim"])
        if "temporal" in c:
            tm = c["temporal"]
            out.num_frames, out.temporal_depth = tm["num_frames"], tm["depth"]
            out.temporal_heads, out.temporal_dim_head, out.temporal_mlp_dim = tm["heads"], tm["dim_head"], tm["mlp_dim"]
            out.n_ctx, out.num_classes, out.class_specific_ctx = c["n_ctx"], c["num_classes"], c["class_specific_ctx"]
        return out


# ---- CLIP (OpenAI layout) ---------------------------------------------------

class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, 4 * width)), ("gelu", QuickGELU()), ("c_proj", nn.Linear(4 * width, width))]))
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)

    def forward(self, x, mask=None):  # x: (L, N, width), sequence first like the official code
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.width, self.layers = width, layers
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x, mask=None):
        for block in self.resblocks:
            x = block(x, mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, image_size, patch_size, width, layers, output_dim):
        super().__init__()
        grid = image_size // patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(width))
        self.positional_embedding = nn.Parameter(torch.zeros(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width, eps=1e-5)
        self.transformer = Transformer(width, layers, width // 64)
        self.ln_post = nn.LayerNorm(width, eps=1e-5)
        self.proj = nn.Parameter(torch.zeros(width, output_dim))

    def forward(self, x):  # (N, 3, S, S) -> (N, output_dim)
        x = self.conv1(x).flatten(2).transpose(1, 2)  # (N, grid*grid, width)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        x = self.transformer(x.transpose(0, 1)).transpose(0, 1)
        return self.ln_post(x[:, 0, :]) @ self.proj


def causal_mask(length, dtype, device=None):
    return torch.full((length, length), float("-inf"), dtype=dtype, device=device).triu_(1)


def text_tower(transformer, positional_embedding, ln_final, text_projection, x, eot_positions):
    """Embedded prompts (N, L, W) -> projected EOT features (N, E), not normalised."""
    x = x + positional_embedding.to(x.dtype)
    x = transformer(x.transpose(0, 1), causal_mask(x.shape[1], x.dtype, x.device)).transpose(0, 1)
    x = ln_final(x)
    return x[torch.arange(x.shape[0]), eot_positions] @ text_projection


class CLIP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.visual = VisionTransformer(cfg.image_size, cfg.patch_size, cfg.vision_width, cfg.vision_layers,
                                        cfg.embed_dim)
        self.transformer = Transformer(cfg.text_width, cfg.text_layers, cfg.text_width // 64)
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.text_width)
        self.positional_embedding = nn.Parameter(torch.zeros(cfg.context_length, cfg.text_width))
        self.ln_final = nn.LayerNorm(cfg.text_width, eps=1e-5)
        self.text_projection = nn.Parameter(torch.zeros(cfg.text_width, cfg.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, pixels):
        """Pixels in [0, 1], (N, 3, S, S); CLIP's mean/std is applied here."""
        mean = torch.tensor(CLIP_MEAN, dtype=pixels.dtype).view(1, 3, 1, 1)
        std = torch.tensor(CLIP_STD, dtype=pixels.dtype).view(1, 3, 1, 1)
        return self.visual((pixels - mean) / std)

    def encode_text(self, token_ids):
        """(N, context_length) token ids -> (N, E); EOT = the largest id of each row."""
        x = self.token_embedding(token_ids)
        return text_tower(self.transformer, self.positional_embedding, self.ln_final, self.text_projection,
                          x, token_ids.argmax(dim=-1))


# ---- CLIP-CAER ------------------------------------------------------------

class TextEncoder(nn.Module):
    """clip_model_'s text modules under a second name, as in the official model."""

    def __init__(self, clip):
        super().__init__()
        self.transformer = clip.transformer
        self.positional_embedding = clip.positional_embedding
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection

    def forward(self, prompts, eot_positions):
        return text_tower(self.transformer, self.positional_embedding, self.ln_final, self.text_projection,
                          prompts, eot_positions)


class PromptLearner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, k, w = cfg.num_classes, cfg.n_ctx, cfg.text_width
        self.ctx = nn.Parameter(torch.zeros((c, k, w) if cfg.class_specific_ctx else (k, w)))
        self.register_buffer("token_prefix", torch.zeros(c, 1, w))
        self.register_buffer("token_suffix", torch.zeros(c, cfg.context_length - 1 - k, w))
        self.register_buffer("eot_positions", torch.zeros(c, dtype=torch.long), persistent=False)

    @torch.no_grad()
    def set_prompts(self, token_embedding, token_ids):
        """token_ids (C, L): tokenised "X X ... X descriptor" prompts (SOT .. EOT, 0 padded)."""
        emb = token_embedding(token_ids).to(self.token_prefix.dtype)
        self.token_prefix.copy_(emb[:, :1])
        self.token_suffix.copy_(emb[:, 1 + self.ctx.shape[-2]:])
        self.eot_positions.copy_(token_ids.argmax(dim=-1))

    def forward(self):
        ctx = self.ctx
        if ctx.dim() == 2:
            ctx = ctx.unsqueeze(0).expand(self.token_prefix.shape[0], -1, -1)
        return torch.cat([self.token_prefix, ctx, self.token_suffix], dim=1)


class TanhGELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-5)
        self.fn = fn

    def forward(self, x):
        return self.fn(self.norm(x))


class TemporalAttention(nn.Module):
    def __init__(self, dim, heads, dim_head):
        super().__init__()
        self.heads, self.scale = heads, dim_head ** -0.5
        self.to_qkv = nn.Linear(dim, 3 * heads * dim_head, bias=False)
        self.to_out = nn.Sequential(nn.Linear(heads * dim_head, dim), nn.Dropout(0.0))

    def forward(self, x):  # (B, n, dim)
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in self.to_qkv(x).chunk(3, dim=-1))
        attn = (q @ k.transpose(-1, -2) * self.scale).softmax(dim=-1)
        return self.to_out((attn @ v).transpose(1, 2).reshape(b, n, -1))


class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), TanhGELU(), nn.Dropout(0.0),
                                 nn.Linear(hidden, dim), nn.Dropout(0.0))

    def forward(self, x):
        return self.net(x)


class TemporalStack(nn.Module):
    def __init__(self, dim, depth, heads, dim_head, mlp_dim):
        super().__init__()
        self.layers = nn.ModuleList([
            nn.ModuleList([Residual(PreNorm(dim, TemporalAttention(dim, heads, dim_head))),
                           Residual(PreNorm(dim, FeedForward(dim, mlp_dim)))])
            for _ in range(depth)])

    def forward(self, x):
        for attn, ff in self.layers:
            x = ff(attn(x))
        return x


class TemporalTransformerCls(nn.Module):
    def __init__(self, num_frames, dim, depth, heads, dim_head, mlp_dim):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.zeros(1, num_frames + 1, dim))
        self.temporal_transformer = TemporalStack(dim, depth, heads, dim_head, mlp_dim)

    def forward(self, x):  # (B, n, dim) -> (B, dim); n <= num_frames uses the first n + 1 positions
        b, n, _ = x.shape
        if n + 1 > self.pos_embedding.shape[1]:
            raise ValueError(f"{n} frames, the temporal encoder has positions for {self.pos_embedding.shape[1] - 1}")
        x = torch.cat([self.cls_token.expand(b, -1, -1), x], dim=1) + self.pos_embedding[:, :n + 1]
        return self.temporal_transformer(x)[:, 0]


class CLIPCAER(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        clip = CLIP(cfg)
        # Registration order and sharing as in the official GenerateModel.
        self.prompt_learner = PromptLearner(cfg)
        self.text_encoder = TextEncoder(clip)
        self.image_encoder = clip.visual
        args = (cfg.num_frames, cfg.embed_dim, cfg.temporal_depth, cfg.temporal_heads, cfg.temporal_dim_head,
                cfg.temporal_mlp_dim)
        self.temporal_net = TemporalTransformerCls(*args)
        self.temporal_net_body = TemporalTransformerCls(*args)
        self.clip_model_ = clip
        self.project_fc = nn.Linear(2 * cfg.embed_dim, cfg.embed_dim)

    def set_prompts(self, token_ids):
        self.prompt_learner.set_prompts(self.clip_model_.token_embedding, token_ids)

    def image_features(self, images):
        """(N, T, 3, S, S) pixels in [0, 1] (no mean/std) -> (N, T, E)."""
        n, t = images.shape[:2]
        return self.image_encoder(images.reshape(n * t, *images.shape[2:])).reshape(n, t, -1)

    def text_features(self):
        """(C, E), L2-normalised."""
        x = self.text_encoder(self.prompt_learner(), self.prompt_learner.eot_positions)
        return x / x.norm(dim=-1, keepdim=True)

    def video_features(self, faces, frames):
        face_image, context_image = self.image_features(faces), self.image_features(frames)
        face_video = self.temporal_net(face_image)
        context_video = self.temporal_net_body(context_image)
        video = self.project_fc(torch.cat([face_video, context_video], dim=-1))
        return dict(face_image_features=face_image, context_image_features=context_image,
                    face_video_features=face_video, context_video_features=context_video,
                    video_features=video / video.norm(dim=-1, keepdim=True))

    def logits(self, video_features, text_features):
        return video_features @ text_features.t() / 0.01

    def features(self, faces, frames):
        """Every intermediate of one forward pass (names as in the fixtures' .io files)."""
        out = self.video_features(faces, frames)
        out["text_features"] = self.text_features()
        out["logits"] = self.logits(out["video_features"], out["text_features"])
        out["probs"] = out["logits"].softmax(dim=-1)
        return out

    def forward(self, faces, frames):
        return self.features(faces, frames)["logits"]


# ---- building and loading ---------------------------------------------------

@torch.no_grad()
def randomize_(model, seed, bias_std=0.05, ln_std=0.1, vision_gain=1.0, temporal_gain=1.0):
    """Deterministic random weights at sensible scales: CLIP's init for the
    towers, non-zero biases and LayerNorm parameters everywhere. The gains
    strengthen the residual branches of the image tower (sharper attention,
    larger outputs) and of the temporal encoders: with plain random weights the
    constant class-token paths dominate and features barely depend on the input."""
    g = torch.Generator().manual_seed(seed)

    def normal_(p, std, mean=0.0):
        p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float32) * std + mean)

    def tower_(t):
        w, layers = t.width, t.layers
        for b in t.resblocks:
            normal_(b.attn.in_proj_weight, w ** -0.5)
            normal_(b.attn.out_proj.weight, w ** -0.5 * (2 * layers) ** -0.5)
            normal_(b.mlp.c_fc.weight, (2 * w) ** -0.5)
            normal_(b.mlp.c_proj.weight, w ** -0.5 * (2 * layers) ** -0.5)

    clip = model.clip_model_ if isinstance(model, CLIPCAER) else model
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            normal_(m.weight, ln_std, 1.0)
            normal_(m.bias, ln_std)
        elif isinstance(m, nn.Linear):
            normal_(m.weight, m.in_features ** -0.5)
            if m.bias is not None:
                normal_(m.bias, bias_std)
        elif isinstance(m, nn.MultiheadAttention):
            normal_(m.in_proj_bias, bias_std)
    v = clip.visual
    wv = v.conv1.out_channels
    normal_(v.conv1.weight, (3 * v.conv1.kernel_size[0] ** 2) ** -0.5)
    normal_(v.class_embedding, wv ** -0.5)
    normal_(v.positional_embedding, wv ** -0.5)
    normal_(v.proj, wv ** -0.5)
    tower_(v.transformer)
    tower_(clip.transformer)
    normal_(clip.token_embedding.weight, 0.02)
    normal_(clip.positional_embedding, 0.01)
    normal_(clip.text_projection, clip.transformer.width ** -0.5)
    for b in v.transformer.resblocks:
        b.attn.in_proj_weight.mul_(vision_gain ** 0.5)
        b.attn.out_proj.weight.mul_(vision_gain)
        b.mlp.c_proj.weight.mul_(vision_gain)
    if isinstance(model, CLIPCAER):
        normal_(model.prompt_learner.ctx, 0.02)
        for net in (model.temporal_net, model.temporal_net_body):
            normal_(net.cls_token, 1.0)
            normal_(net.pos_embedding, 1.0)
            for attn, ff in net.temporal_transformer.layers:
                attn.fn.fn.to_out[0].weight.mul_(temporal_gain)
                ff.fn.fn.net[3].weight.mul_(temporal_gain)
    return model


def random_prompt_ids(cfg, lengths, seed, x_token=None):
    """Token ids of "X ... X descriptor" prompts for a small synthetic
    vocabulary: SOT = V-2, EOT = V-1, padding 0, descriptor ids random in [1, V-2)."""
    rng = np.random.default_rng(seed)
    v = cfg.vocab_size
    x_token = int(rng.integers(1, v - 2)) if x_token is None else x_token
    ids = np.zeros((len(lengths), cfg.context_length), np.int64)
    for c, n in enumerate(lengths):
        row = [v - 2] + [x_token] * cfg.n_ctx + list(rng.integers(1, v - 2, n)) + [v - 1]
        if len(row) > cfg.context_length:
            raise ValueError(f"prompt of {len(row)} tokens exceeds the context length {cfg.context_length}")
        ids[c, :len(row)] = row
    return torch.from_numpy(ids)


def float64_copy(model):
    """A float64 copy of a CLIPCAER (goldens are computed in float64)."""
    m64 = CLIPCAER(model.cfg).double()
    m64.load_state_dict(model.state_dict())
    m64.prompt_learner.eot_positions.copy_(model.prompt_learner.eot_positions)
    return m64.eval()


def model_from_state_dict(state, temporal_heads=8, path="state dict"):
    """A CLIPCAER holding an official state dict (torch tensors or numpy arrays)."""
    from model_spec import StateDict, derive_config, find_eot_positions

    arrays = {k: v.detach().cpu().numpy() if torch.is_tensor(v) else np.asarray(v) for k, v in state.items()}
    sd = StateDict(arrays, path, "clip-caer")
    config = derive_config(sd, temporal_heads)
    model = CLIPCAER(Config.from_file_config(config))
    model.load_state_dict({k: torch.as_tensor(v, dtype=torch.float32) for k, v in arrays.items()}, strict=True)
    named = {"token_embedding.weight": arrays["clip_model_.token_embedding.weight"],
             "prompt_learner.token_suffix": arrays["prompt_learner.token_suffix"]}
    model.prompt_learner.eot_positions.copy_(torch.tensor(find_eot_positions(sd, config, named)))
    return model.eval()


def load_reference(path, temporal_heads=8):
    """A CLIPCAER holding the weights of checkpoint `path` (read without torch.load)."""
    from ckpt_reader import load_checkpoint
    from model_spec import find_state_dict

    return model_from_state_dict(find_state_dict(load_checkpoint(path), path), temporal_heads, path)
