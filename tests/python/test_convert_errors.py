"""Bad input: every failure is a clear one-line error naming the file and the
tensor, shape or value at fault (exit code 1, no traceback), and pickled code
never runs."""

import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from helpers import FIXTURES, MANIFEST, convert_args, fixture, run_cli
from ckpt_reader import load_checkpoint
from convert import convert
from errors import ConvertError
from pth_writer import Call, Global, Object, View, write_pth


def caer_a_state():
    return load_checkpoint(str(fixture("caer_a", "checkpoint")))["state_dict"]


def cli_error(tmp_path, checkpoint, *extra):
    """Runs the CLI, checks the failure mode, returns stderr."""
    out = tmp_path / "out.safetensors"
    code, stdout, err = run_cli(checkpoint, "-o", out, *convert_args("caer_a", tmp_path), *extra)
    assert code == 1, (stdout, err)
    assert "Traceback" not in err and err.startswith("convert.py: error: ") and err.count("\n") == 1, err
    assert not out.exists()
    return err


def with_state(tmp_path, edit, name="edited.pth"):
    sd = caer_a_state()
    edit(sd)
    path = tmp_path / name
    write_pth(path, {"epoch": 1, "state_dict": sd})
    return path


def test_not_a_zip(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert f"{path}: not a PyTorch checkpoint (a torch.save file is a zip archive)" in cli_error(tmp_path, path)


def test_missing_file(tmp_path):
    assert "missing.pth: cannot read: No such file or directory" in cli_error(tmp_path, tmp_path / "missing.pth")


@pytest.mark.parametrize("keep", [0.5, 0.98])
def test_truncated_zip(tmp_path, keep):
    raw = fixture("caer_a", "checkpoint").read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(raw[:int(len(raw) * keep)])
    assert "cut.pth: damaged or truncated zip archive" in cli_error(tmp_path, path)


def test_corrupted_member(tmp_path):
    # A flipped byte inside a stored storage: the zip's CRC check catches it.
    raw = bytearray(fixture("caer_a", "checkpoint").read_bytes())
    with zipfile.ZipFile(fixture("caer_a", "checkpoint")) as zf:
        info = next(i for i in zf.infolist() if "/data/" in i.filename and i.file_size > 1000)
    raw[info.header_offset + 30 + len(info.filename) + len(info.extra) + 100] ^= 0xFF
    path = tmp_path / "flipped.pth"
    path.write_bytes(bytes(raw))
    assert "flipped.pth: damaged or truncated zip archive (entry " in cli_error(tmp_path, path)


def test_legacy_format(tmp_path):
    path = tmp_path / "old.pth"
    path.write_bytes(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.rest")
    assert "old.pth: legacy (torch < 1.6, non-zip) checkpoint format is not supported" in cli_error(tmp_path, path)


def test_zip_without_data_pkl(tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hi")
    assert "other.zip: zip archive is not a PyTorch checkpoint (no single <name>/data.pkl)" in cli_error(tmp_path, path)


def test_torchscript_archive_without_a_module(tmp_path):
    path = tmp_path / "ViT-B-32.pt"
    write_pth(path, {"x": np.zeros(2, np.float32)}, extra={"constants.pkl": b"", "code/__torch__/m.py": b""})
    assert "ViT-B-32.pt: a TorchScript archive whose data.pkl holds no module" in cli_error(tmp_path, path)


def test_garbage_pickle(tmp_path):
    path = tmp_path / "garbage.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00(X\x01")
    assert "garbage.pth: cannot unpickle archive/data.pkl" in cli_error(tmp_path, path)


def test_missing_storage(tmp_path):
    path = tmp_path / "nostorage.pth"
    with zipfile.ZipFile(fixture("caer_a", "checkpoint")) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            if not item.filename.endswith("/data/0"):
                dst.writestr(item, src.read(item))
    assert "nostorage.pth: zip archive has no entry caer_a/data/0" in cli_error(tmp_path, path)


def test_storage_size_mismatch(tmp_path):
    path = tmp_path / "short.pth"
    write_pth(path, {"w": np.zeros(4, np.float32)})
    with zipfile.ZipFile(path) as zf:
        items = {i.filename: zf.read(i) for i in zf.infolist()}
    items["archive/data/0"] = items["archive/data/0"][:-4]
    with zipfile.ZipFile(path, "w") as zf:
        for k, v in items.items():
            zf.writestr(k, v)
    assert "short.pth: storage data/0 has 12 bytes, expected 4 x 4" in cli_error(tmp_path, path)


def test_view_past_its_storage(tmp_path):
    path = tmp_path / "view.pth"
    write_pth(path, {"w": View(np.zeros(10, np.float32), 4, (2, 4), (4, 1))})
    assert "view.pth: cannot unpickle archive/data.pkl: tensor of size (2, 4) at offset 4 reaches past" in \
        cli_error(tmp_path, path)


def test_not_a_dict(tmp_path):
    path = tmp_path / "list.pth"
    write_pth(path, [np.zeros(3, np.float32)])
    assert "list.pth: holds a list object, not a state dict or a checkpoint dict" in cli_error(tmp_path, path)


def test_dict_without_tensors(tmp_path):
    path = tmp_path / "empty.pth"
    write_pth(path, {"epoch": 3, "best_acc": 1.0})
    assert "empty.pth: holds a dict without tensors (keys: epoch, best_acc)" in cli_error(tmp_path, path)


def test_unknown_layout(tmp_path):
    path = tmp_path / "resnet.pth"
    write_pth(path, {"conv1.weight": np.zeros((4, 3, 3, 3), np.float32)})
    assert "resnet.pth: neither a CLIP-CAER checkpoint" in cli_error(tmp_path, path)


@pytest.mark.parametrize("key", ["project_fc.bias", "temporal_net_body.temporal_transformer.layers.0.1.fn.norm.weight",
                                 "prompt_learner.token_suffix", "clip_model_.transformer.resblocks.1.mlp.c_fc.bias"])
def test_missing_tensor(tmp_path, key):
    def drop(sd):
        del sd[key]
        sd.pop(key.replace("clip_model_.", "text_encoder."), None)
    err = cli_error(tmp_path, with_state(tmp_path, drop))
    assert f"edited.pth: missing tensor '{key}'" in err


def test_missing_shape_source(tmp_path):
    # The tensors that sizes are derived from are reported like any other.
    def drop(sd):
        del sd["clip_model_.visual.conv1.weight"], sd["image_encoder.conv1.weight"]
    err = cli_error(tmp_path, with_state(tmp_path, drop))
    assert "missing tensor 'clip_model_.visual.conv1.weight' (or 'image_encoder.conv1.weight')" in err


def test_missing_blocks(tmp_path):
    def drop(sd):
        for k in [k for k in sd if ".resblocks." in k and "visual" in k or k.startswith("image_encoder.transformer")]:
            del sd[k]
    err = cli_error(tmp_path, with_state(tmp_path, drop))
    assert "missing tensors 'clip_model_.visual.transformer.resblocks.0.*' (no blocks found)" in err


@pytest.mark.parametrize("key, value, message", [
    ("project_fc.weight", lambda a: a.T.copy(), "tensor 'project_fc.weight' has shape (64, 32), expected (32, 64)"),
    ("temporal_net_body.pos_embedding", lambda a: a[:, :3].copy(),
     "tensor 'temporal_net_body.pos_embedding' has shape (1, 3, 32), expected (1, 5, 32)"),
    ("clip_model_.visual.positional_embedding", lambda a: a[:8].copy(),
     "tensor 'clip_model_.visual.positional_embedding' has 8 rows, expected grid*grid + 1"),
    ("clip_model_.visual.conv1.weight", lambda a: a[:, :, :, :4].copy(),
     "tensor 'clip_model_.visual.conv1.weight' has shape (64, 3, 8, 4), expected (width, 3, patch, patch)"),
    ("clip_model_.ln_final.weight", lambda a: np.zeros(48, np.float32),
     "tensor 'clip_model_.ln_final.weight' gives width 48, which is not a multiple of 64"),
    ("prompt_learner.ctx", lambda a: a[:5].copy(), "tensor 'prompt_learner.ctx' has shape (5, 2, 64), expected (7, 2, 64)"),
    ("clip_model_.transformer.resblocks.0.attn.in_proj_bias", lambda a: a[:-1].copy(),
     "tensor 'clip_model_.transformer.resblocks.0.attn.in_proj_bias' has shape (191,), expected (192,)"),
    ("project_fc.bias", lambda a: a.astype(np.int64), "tensor 'project_fc.bias' has dtype int64, expected floating point"),
    ("project_fc.bias", lambda a: np.where(np.arange(a.size) == 3, np.nan, a).astype(np.float32),
     "tensor 'project_fc.bias' has 1 non-finite values"),
])
def test_misshapen_or_bad_tensor(tmp_path, key, value, message):
    def edit(sd):
        sd[key] = value(sd[key])
        twin = key.replace("clip_model_.visual.", "image_encoder.").replace("clip_model_.", "text_encoder.")
        if twin in sd:
            sd[twin] = sd[key]
    assert "edited.pth: " + message in cli_error(tmp_path, with_state(tmp_path, edit))


def test_suffix_without_eot(tmp_path):
    def edit(sd):
        sd["prompt_learner.token_suffix"] = sd["prompt_learner.token_suffix"] + 1.0
    err = cli_error(tmp_path, with_state(tmp_path, edit))
    assert "'prompt_learner.token_suffix' class 0 has no row equal to the EOT embedding token_embedding.weight[31]" in err


# ---- hostile pickles --------------------------------------------------------

class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_malicious_reduce_alone_is_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(Evil(marker), protocol=2))
    err = cli_error(tmp_path, path)
    assert "evil.pth: holds a " in err and "system object, not a state dict" in err
    assert not marker.exists()
    pickle.loads(pickle.dumps(Evil(tmp_path / "control"), protocol=2))  # the payload does work when unpickled
    assert (tmp_path / "control").exists()


def test_malicious_objects_inside_a_valid_checkpoint(tmp_path):
    markers = [tmp_path / f"pwned{i}" for i in range(4)]
    hostile = [
        Call("posix", "system", (f"touch {markers[0]}",)),
        Call("builtins", "exec", (f"open({str(markers[1])!r}, 'w').close()",)),
        Call("subprocess", "check_call", (["touch", str(markers[2])],)),
        Object("__main__", "RecorderMeter", {"run": Call("os", "system", (f"touch {markers[3]}",))}),
        Call("builtins", "getattr", (Call("builtins", "__import__", ("os",)), "system")),
    ]
    path = tmp_path / "caer_a.pth"
    write_pth(path, {"epoch": 1, "state_dict": caer_a_state(), "optimizer": hostile, "recorder": hostile[3]})
    out = tmp_path / "o.safetensors"
    convert(str(path), str(out), str(FIXTURES / MANIFEST["caer_a"]["classes"]))
    assert not any(m.exists() for m in markers)
    assert out.read_bytes() == fixture("caer_a", "weights").read_bytes()


def test_malicious_recorder_saved_by_torch(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "pwned"
    sd = OrderedDict((k, torch.from_numpy(np.array(v))) for k, v in caer_a_state().items())
    path = tmp_path / "caer_a.pth"
    torch.save({"epoch": 1, "state_dict": sd, "best_acc": 1.0, "recorder": Evil(marker)}, path)
    convert(str(path), str(tmp_path / "o.safetensors"), str(FIXTURES / MANIFEST["caer_a"]["classes"]))
    assert not marker.exists()


def test_hostile_numpy_payloads_stay_inert(tmp_path):
    # An object-dtype array and a numpy scalar of an unknown dtype become placeholders.
    path = tmp_path / "np.pth"
    obj_array = Call("numpy.core.multiarray", "_reconstruct", (Global("numpy", "ndarray"), (0,), b"b"))
    write_pth(path, {"state_dict": caer_a_state(), "a": obj_array,
                     "d": Call("numpy", "dtype", ("O8", False, True)),
                     "s": Call("numpy.core.multiarray", "scalar", (Call("numpy", "dtype", ("O8", False, True)), b"x"))})
    loaded = load_checkpoint(str(path))
    assert type(loaded["d"]).__name__ == "Placeholder" and type(loaded["s"]).__name__ == "Placeholder"
    with pytest.raises(ConvertError, match="codecs"):
        write_pth(path, {"x": Call("_codecs", "encode", ("abc", "rot13"))})
        load_checkpoint(str(path))
