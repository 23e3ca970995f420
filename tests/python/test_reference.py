"""weights/reference.py: the official checkpoint layout and the parts of the
computation the goldens alone do not pin down. Needs torch."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from helpers import FIXTURES, MANIFEST, REPO  # noqa: E402
from st_format import read_safetensors  # noqa: E402
from reference import CLIP, CLIP_MEAN, CLIP_STD, CLIPCAER, Config, randomize_, random_prompt_ids  # noqa: E402

SMALL = Config(vision_width=64, vision_layers=2, patch_size=8, image_size=16, text_width=64, text_layers=2,
               context_length=12, vocab_size=20, embed_dim=16, num_frames=5, temporal_depth=2, temporal_heads=2,
               temporal_dim_head=8, temporal_mlp_dim=24, n_ctx=3, num_classes=3)


def official_keys(cfg):
    """The state_dict keys of the official GenerateModel (shared/docs/MODEL.md), spelled out."""
    block = ["ln_1.weight", "ln_1.bias", "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight",
             "attn.out_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
             "mlp.c_proj.weight", "mlp.c_proj.bias"]
    vit = ["conv1.weight", "class_embedding", "positional_embedding", "ln_pre.weight", "ln_pre.bias", "ln_post.weight",
           "ln_post.bias", "proj"] + [f"transformer.resblocks.{i}.{b}" for i in range(cfg.vision_layers) for b in block]
    text = ["positional_embedding", "ln_final.weight", "ln_final.bias", "text_projection"] + [
        f"transformer.resblocks.{i}.{b}" for i in range(cfg.text_layers) for b in block]
    temporal = ["cls_token", "pos_embedding"] + [
        f"temporal_transformer.layers.{d}.{k}" for d in range(cfg.temporal_depth) for k in (
            "0.fn.norm.weight", "0.fn.norm.bias", "0.fn.fn.to_qkv.weight", "0.fn.fn.to_out.0.weight",
            "0.fn.fn.to_out.0.bias", "1.fn.norm.weight", "1.fn.norm.bias", "1.fn.fn.net.0.weight",
            "1.fn.fn.net.0.bias", "1.fn.fn.net.3.weight", "1.fn.fn.net.3.bias")]
    keys = ["prompt_learner.ctx", "prompt_learner.token_prefix", "prompt_learner.token_suffix",
            "project_fc.weight", "project_fc.bias", "clip_model_.token_embedding.weight", "clip_model_.logit_scale"]
    keys += ["image_encoder." + k for k in vit] + ["clip_model_.visual." + k for k in vit]
    keys += ["text_encoder." + k for k in text] + ["clip_model_." + k for k in text]
    keys += [net + "." + k for net in ("temporal_net", "temporal_net_body") for k in temporal]
    return set(keys)


def small_model(cfg=SMALL, seed=0):
    model = randomize_(CLIPCAER(cfg), seed).eval()
    model.set_prompts(random_prompt_ids(cfg, [2, 5, 0][:cfg.num_classes], seed + 1))
    return model


def test_state_dict_has_the_official_keys_and_sharing():
    model = small_model()
    sd = model.state_dict()
    assert set(sd) == official_keys(SMALL)
    assert sd["image_encoder.conv1.weight"].data_ptr() == sd["clip_model_.visual.conv1.weight"].data_ptr()
    assert sd["text_encoder.ln_final.weight"].data_ptr() == sd["clip_model_.ln_final.weight"].data_ptr()
    assert tuple(sd["prompt_learner.token_suffix"].shape) == (3, 12 - 1 - 3, 64)
    generic = CLIPCAER(Config(**{**SMALL.__dict__, "class_specific_ctx": False}))
    assert tuple(generic.state_dict()["prompt_learner.ctx"].shape) == (3, 64)


def test_random_weights_have_nonzero_biases_and_layer_norms():
    sd = small_model().state_dict()
    for k, v in sd.items():
        if k.endswith(("bias", "ln_1.weight", "norm.weight")):
            assert v.abs().min() > 0 and not torch.allclose(v, v.flatten()[0].expand_as(v)), k


def test_prompts_and_eot_positions():
    model = small_model()
    ids = random_prompt_ids(SMALL, [2, 5, 0], 1)
    assert model.prompt_learner.eot_positions.tolist() == [1 + 3 + 2, 1 + 3 + 5, 1 + 3 + 0]
    prompts = model.prompt_learner()
    emb = model.clip_model_.token_embedding.weight
    assert torch.equal(prompts[:, 0], emb[SMALL.vocab_size - 2].expand(3, -1))  # SOT
    assert torch.equal(prompts[:, 1:4], model.prompt_learner.ctx)
    assert torch.equal(prompts[:, 4:], emb[ids[:, 4:]])


def test_fewer_frames_use_the_first_positions():
    model = small_model()
    net = model.temporal_net
    x = torch.randn(2, 3, SMALL.embed_dim)
    with torch.no_grad():
        full = net(x)
        # Same result when the unused tail of the position table changes.
        net.pos_embedding[:, 4:] += 5.0
        assert torch.equal(net(x), full)
        net.pos_embedding[:, 3] += torch.randn(SMALL.embed_dim)  # (a constant shift would vanish in LayerNorm)
        assert (net(x) - full).abs().max() > 1e-5
        with pytest.raises(ValueError, match="6 frames, the temporal encoder has positions for 5"):
            net(torch.randn(1, 6, SMALL.embed_dim))


def test_video_logits_and_batch_independence():
    model = small_model()
    faces = torch.rand(3, 4, 3, 16, 16)
    frames = torch.rand(3, 4, 3, 16, 16)
    with torch.no_grad():
        out = model.features(faces, frames)
        one = model.features(faces[1:2], frames[1:2])
    torch.testing.assert_close(out["logits"][1:2], one["logits"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out["logits"], 100 * out["video_features"] @ out["text_features"].T)
    assert torch.equal(model(faces, frames), out["logits"])
    # The face stream goes through temporal_net, the context stream through temporal_net_body.
    with torch.no_grad():
        model.temporal_net_body.cls_token += 1
        changed = model.features(faces, frames)
    assert torch.equal(changed["face_video_features"], out["face_video_features"])
    assert not torch.allclose(changed["context_video_features"], out["context_video_features"])


def test_plain_clip_normalises_pixels_and_uses_the_causal_eot_row():
    cfg = Config(vision_width=64, vision_layers=1, patch_size=8, image_size=16, text_width=64, text_layers=1,
                 context_length=10, vocab_size=30, embed_dim=16)
    clip = randomize_(CLIP(cfg), 3).eval()
    x = torch.rand(2, 3, 16, 16)
    mean, std = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(clip.encode_image(x), clip.visual((x - mean) / std))
        ids = torch.tensor([[28, 5, 7, 29, 0, 0, 0, 0, 0, 0]])
        a = clip.encode_text(ids)
        ids2 = ids.clone()
        ids2[0, 5] = 9  # after the EOT: invisible through the causal mask
        torch.testing.assert_close(clip.encode_text(ids2), a, rtol=0, atol=0)
        ids2[0, 1] = 9
        assert not torch.allclose(clip.encode_text(ids2), a)


def test_fixtures_are_up_to_date(tmp_path):
    """Regenerating the fixtures gives the committed weights and goldens, up
    to float32 rounding (the generator's float32 steps may round differently
    on another CPU or BLAS), so a mismatch means a stale fixture."""
    subprocess.run([sys.executable, str(REPO / "weights" / "make_fixtures.py"), "--out", str(tmp_path),
                    "--demo", str(tmp_path / "demo_model.safetensors")], check=True, capture_output=True, timeout=600)
    for name, spec in MANIFEST.items():
        for key in ("weights", "io"):
            committed, committed_meta, _ = read_safetensors(str((FIXTURES / spec[key]).resolve()))
            fresh, fresh_meta, _ = read_safetensors(str(tmp_path / os.path.basename(spec[key])))
            stale = f"{name}: {spec[key]} is stale; run weights/make_fixtures.py"
            assert fresh_meta == committed_meta and fresh.keys() == committed.keys(), stale
            for k, v in committed.items():
                np.testing.assert_allclose(fresh[k], v, rtol=1e-4, atol=1e-6, err_msg=f"{stale} ({k})")
    with open(tmp_path / "manifest.json") as f:
        fresh = json.load(f)
    fresh["demo"]["weights"] = MANIFEST["demo"]["weights"]  # a path relative to the output folder
    assert fresh == MANIFEST
