"""weights/st_format.py: safetensors writing and bfloat16 rounding."""

import json
import struct

import numpy as np
import pytest

from st_format import bf16_bits_to_f32, f32_to_bf16_bits, read_safetensors, write_safetensors
from errors import ConvertError


def bits(values):
    return f32_to_bf16_bits(np.array(values, np.float32)).tolist()


def f32(hex_bits):
    return np.array([hex_bits], np.uint32).view(np.float32)[0]


def test_bf16_round_to_nearest_even():
    assert bits([1.0, -2.0, 0.0, -0.0]) == [0x3F80, 0xC000, 0x0000, 0x8000]
    assert bits([f32(0x3F808000)]) == [0x3F80]  # tie, even stays
    assert bits([f32(0x3F818000)]) == [0x3F82]  # tie, odd rounds up to even
    assert bits([f32(0x3F808001)]) == [0x3F81]  # above the tie
    assert bits([f32(0x3F807FFF)]) == [0x3F80]  # below the tie
    assert bits([np.inf, -np.inf]) == [0x7F80, 0xFF80]
    assert bits([np.finfo(np.float32).max]) == [0x7F80]  # rounds to infinity, as RNE does
    assert bits([f32(0x00000001)]) == [0x0000]  # smallest subnormal
    nan = bits([np.nan, f32(0x7F800001), f32(0xFFFFFFFF)])
    assert all((b & 0x7F80) == 0x7F80 and (b & 0x7F) for b in nan)  # still NaN (quiet)


def test_bf16_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(100000) * 10.0 ** rng.integers(-30, 30, 100000),
                        rng.standard_normal(1000)]).astype(np.float32)
    ours = f32_to_bf16_bits(x)
    theirs = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(bf16_bits_to_f32(ours), torch.from_numpy(x).to(torch.bfloat16).float().numpy())


def test_layout_and_round_trip(tmp_path):
    path = tmp_path / "t.safetensors"
    tensors = [("u8", "U8", np.arange(3, dtype=np.uint8)), ("a", "F32", np.ones((2, 3), np.float32)),
               ("b", "BF16", f32_to_bf16_bits(np.array([1.5, -2.0], np.float32))),
               ("i", "I64", np.array([-1, 2**40])), ("s", "F32", np.array(3.5, np.float32))]
    write_safetensors(str(path), tensors, {"k": "v"})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0 and raw[8 + n - 1:8 + n] in (b" ", b"}")
    header = json.loads(raw[8:8 + n])
    assert list(header) == ["__metadata__", "i", "a", "s", "b", "u8"]  # widest elements first
    for name, info in header.items():
        if name != "__metadata__":
            size = {"F32": 4, "BF16": 2, "I64": 8, "U8": 1}[info["dtype"]]
            assert info["data_offsets"][0] % size == 0
    got, meta, _ = read_safetensors(str(path))
    assert meta == {"k": "v"}
    np.testing.assert_array_equal(got["b"], [1.5, -2.0])
    np.testing.assert_array_equal(got["i"], [-1, 2**40])
    assert got["s"].shape == () and got["s"] == 3.5


def test_reader_rejects_gaps(tmp_path):
    path = tmp_path / "t.safetensors"
    header = json.dumps({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}).encode()
    header += b" " * (-len(header) % 8)
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    with pytest.raises(ConvertError, match="not contiguous"):
        read_safetensors(str(path))
