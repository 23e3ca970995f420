"""Writes and reads safetensors files with numpy only.

Layout: 8-byte little-endian header size N, N bytes of JSON header (padded
with spaces so the data section starts 8-byte aligned), then the tensors'
little-endian bytes, contiguous, covering the data section exactly.
"""

import json
import os
import struct
import tempfile

import numpy as np

from errors import ConvertError

# safetensors dtype name -> numpy dtype of the stored bytes (BF16 as raw uint16 bits).
DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"), "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_NUMPY_TO_NAME = {np.dtype(v): k for k, v in DTYPES.items() if k != "BF16"}

MAX_HEADER_BYTES = 100 << 20


def f32_to_bf16_bits(a):
    """float32 -> bfloat16 bit patterns, rounding to nearest even; NaN stays (quiet) NaN."""
    a = np.asarray(a, np.float32, order="C")
    u = a.view(np.uint32).astype(np.uint64)
    bits = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(a)
    bits[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return bits


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(np.float32)


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, dtype name, array); BF16 arrays hold uint16 bits.
    Tensors are stored by decreasing element size (stable), so every tensor
    starts aligned to its element size. The file is replaced atomically."""
    entries = []
    for name, dtype, array in tensors:
        array = np.asarray(array, DTYPES[dtype], order="C")  # keeps 0-d shapes
        entries.append((name, dtype, array))
    entries.sort(key=lambda e: -e[2].itemsize)
    header = {"__metadata__": dict(metadata)} if metadata else {}
    offset = 0
    for name, dtype, array in entries:
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    text += b" " * (-len(text) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for _, _, array in entries:
                f.write(array.tobytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def dtype_name(array):
    """The safetensors name of a numpy array's dtype."""
    try:
        return _NUMPY_TO_NAME[array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype]
    except KeyError:
        raise ConvertError(f"no safetensors dtype for numpy {array.dtype}") from None


def read_safetensors(path, widen_bf16=True):
    """Returns (tensors, metadata, header). Validates the layout as the C++
    loader does; BF16 tensors come back as float32 unless widen_bf16=False."""
    with open(path, "rb") as f:
        blob = bytearray(f.read())  # writable arrays

    def fail(msg):
        raise ConvertError(f"{path}: {msg}")

    if len(blob) < 8:
        fail("shorter than the 8-byte header size")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER_BYTES or n > len(blob) - 8:
        fail(f"header size {n} does not fit the file")
    try:
        header = json.loads(blob[8:8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"header is not JSON: {e}")
    if not isinstance(header, dict):
        fail("header is not a JSON object")
    data = memoryview(blob)[8 + n:]
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail("__metadata__ is not an object of strings")
    tensors = {}
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES.get(info.get("dtype"))
        if dtype is None:
            fail(f"tensor {name} has unknown dtype {info.get('dtype')!r}")
        shape = tuple(info["shape"])
        begin, end = info["data_offsets"]
        if not all(isinstance(d, int) and d >= 0 for d in shape) or not 0 <= begin <= end <= len(data):
            fail(f"tensor {name} has a bad shape or offsets")
        if end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            fail(f"tensor {name}: {end - begin} bytes for shape {shape} {info['dtype']}")
        array = np.frombuffer(data[begin:end], dtype).reshape(shape)
        if info["dtype"] == "BF16" and widen_bf16:
            array = bf16_bits_to_f32(array).reshape(shape)
        tensors[name] = array
        spans.append((begin, end))
    spans.sort()
    pos = 0
    for begin, end in spans:
        if begin != pos:
            fail("tensor data is not contiguous")
        pos = end
    if pos != len(data):
        fail("tensor data does not cover the data section")
    return tensors, metadata, header
