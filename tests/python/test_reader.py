"""weights/ckpt_reader.py: torch.save files read without torch."""

from collections import OrderedDict

import numpy as np
import pytest

from helpers import CAER_WITH_CHECKPOINT, fixture
from ckpt_reader import Placeholder, load_checkpoint
from pth_writer import BF16, Object, View, write_pth
from st_format import bf16_bits_to_f32, f32_to_bf16_bits


@pytest.mark.parametrize("name", CAER_WITH_CHECKPOINT)
def test_official_layout(name):
    ckpt = load_checkpoint(str(fixture(name, "checkpoint")))
    assert set(ckpt) == {"epoch", "state_dict", "best_acc", "optimizer", "recorder"}
    assert ckpt["epoch"] == 7
    assert float(ckpt["best_acc"]) in (61.25, 48.5)
    recorder = ckpt["recorder"]
    assert isinstance(recorder, Placeholder) and recorder.qualname == "__main__.RecorderMeter"
    assert recorder.state["total_epoch"] == 10
    for key in ("epoch_losses", "epoch_accuracy"):
        array = recorder.state[key]
        assert isinstance(array, np.ndarray) and array.shape == (10, 2) and array.dtype == np.float32
        assert np.all(np.isfinite(array)) and array.any()
    optimizer = ckpt["optimizer"]
    assert {g["momentum"] for g in optimizer["param_groups"]} == {0.9}
    buffers = [s["momentum_buffer"] for s in optimizer["state"].values()]
    assert buffers and all(isinstance(b, np.ndarray) and b.any() for b in buffers)
    sd = ckpt["state_dict"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert sd["image_encoder.conv1.weight"].dtype == np.float32


def test_dtypes_views_and_sharing(tmp_path):
    a = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 7) / 3
    storage = np.arange(40, dtype=np.float64) / 7
    obj = OrderedDict(
        f32=a, again=a, f16=a.astype(np.float16), f64=a.astype(np.float64), i64=np.arange(-3, 3),
        i32=np.arange(5, dtype=np.int32), u8=np.arange(7, dtype=np.uint8), bf16=BF16(f32_to_bf16_bits(a)),
        transposed=View(storage, 0, (4, 5), (1, 4)), offset=View(storage, 7, (3, 2), (5, 2)),
        scalar=View(storage, 11, (), ()), empty=np.zeros((0, 3), np.float32))
    for big_endian in (False, True):
        path = tmp_path / f"t{big_endian}.pth"
        write_pth(path, obj, big_endian=big_endian)
        got = load_checkpoint(str(path))
        for k in ("f32", "again", "f16", "f64", "i64", "i32", "u8", "empty"):
            assert got[k].dtype == obj[k].dtype.newbyteorder("=") and np.array_equal(got[k], obj[k]), k
        assert got["bf16"].dtype == np.float32
        np.testing.assert_array_equal(got["bf16"], bf16_bits_to_f32(f32_to_bf16_bits(a)))
        np.testing.assert_array_equal(got["transposed"], storage[:20].reshape(5, 4).T)
        np.testing.assert_array_equal(got["offset"], [[storage[7], storage[9]], [storage[12], storage[14]],
                                                      [storage[17], storage[19]]])
        assert got["scalar"].shape == () and got["scalar"] == storage[11]
        got["f32"][0, 0, 0] = 99  # owned copies, not views of one buffer
        assert got["again"][0, 0, 0] != 99


def test_placeholders_keep_what_they_were_given(tmp_path):
    path = tmp_path / "p.pth"
    write_pth(path, {"r": Object("trainer", "Meter", {"x": 1, "arr": np.ones(2, np.float32)})})
    r = load_checkpoint(str(path))["r"]
    assert isinstance(r, Placeholder) and r.qualname == "trainer.Meter" and r.state["x"] == 1


def test_writer_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    path = tmp_path / "w.pth"
    write_pth(path, {"a": a, "v": View(a.reshape(-1), 2, (2, 2), (5, 1)), "h": a.astype(np.float16)})
    t = torch.load(path)
    np.testing.assert_array_equal(t["a"].numpy(), a)
    np.testing.assert_array_equal(t["v"].numpy(), a.reshape(-1)[2:].reshape(-1)[[0, 1, 5, 6]].reshape(2, 2))
    np.testing.assert_array_equal(t["h"].numpy(), a.astype(np.float16))


def test_torch_saved_views_and_dtypes(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.randn(6, 8, generator=torch.Generator().manual_seed(1))
    obj = {"t": base.t(), "slice": base[1:, ::3], "bf16": base.to(torch.bfloat16), "f16": base.half(),
           "long": torch.arange(5), "param": torch.nn.Parameter(base.clone()), "numpy": np.float64(2.5),
           "nested": [OrderedDict(x=base[2])]}
    path = tmp_path / "torch.pth"
    torch.save(obj, path)
    got = load_checkpoint(str(path))
    np.testing.assert_array_equal(got["t"], base.t().numpy())
    np.testing.assert_array_equal(got["slice"], base[1:, ::3].numpy())
    np.testing.assert_array_equal(got["bf16"], base.to(torch.bfloat16).float().numpy())
    np.testing.assert_array_equal(got["f16"], base.half().numpy())
    np.testing.assert_array_equal(got["long"], np.arange(5))
    np.testing.assert_array_equal(got["param"], base.numpy())
    np.testing.assert_array_equal(got["nested"][0]["x"], base[2].numpy())
    assert got["numpy"] == 2.5
