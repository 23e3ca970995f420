"""Writes torch.save-format zip checkpoints with numpy only, so the converter
tests can build checkpoint variants (bare, `module.` prefix, missing or
misshapen tensors, hostile pickles) from the committed fixtures without torch.

The pickle is emitted opcode by opcode (protocol 2) in the layout torch uses:
tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
False, OrderedDict())` with storages as persistent ids
`('storage', torch.<T>Storage, key, 'cpu', numel)`.
"""

import struct
import zipfile
from collections import OrderedDict

import numpy as np

_STORAGE = {
    np.dtype("float32"): "FloatStorage", np.dtype("float64"): "DoubleStorage",
    np.dtype("float16"): "HalfStorage", np.dtype("int64"): "LongStorage",
    np.dtype("int32"): "IntStorage", np.dtype("uint8"): "ByteStorage",
}


class BF16:
    """A bfloat16 tensor given by its uint16 bit patterns."""

    def __init__(self, bits):
        self.bits = np.asarray(bits, np.uint16)


class View:
    """A tensor that is a strided view into `storage` (a 1-D array)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


class Call:
    """A pickled call `module.name(*args)`: what a class's __reduce__ produces."""

    def __init__(self, module, name, args=()):
        self.module, self.name, self.args = module, name, tuple(args)


class Global:
    """A reference to `module.name` itself (a class or function, not called)."""

    def __init__(self, module, name):
        self.module, self.name = module, name


class Object:
    """An instance of class `module.name` with a __dict__ `state` (NEWOBJ + BUILD)."""

    def __init__(self, module, name, state):
        self.module, self.name, self.state = module, name, state


class _Emitter:
    def __init__(self, big_endian=False):
        self.out = bytearray(b"\x80\x02")
        self.storages = []  # (key, bytes)
        self.keys = {}  # id(owner) -> key; owners kept alive so ids stay unique
        self.owners = []
        self.big_endian = big_endian

    def glob(self, module, name):
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    def storage(self, owner, array, storage_name):
        key = self.keys.get(id(owner))
        if key is None:
            key = str(len(self.storages))
            self.keys[id(owner)] = key
            self.owners.append(owner)
            order = ">" if self.big_endian else "<"
            data = array.astype(array.dtype.newbyteorder(order)) if array.dtype.itemsize > 1 else array
            self.storages.append((key, np.ascontiguousarray(data).tobytes()))
        self.out += b"("
        self.emit("storage")
        self.glob("torch", storage_name)
        self.emit(key)
        self.emit("cpu")
        self.emit(int(array.size))
        self.out += b"tQ"  # TUPLE, BINPERSID

    def tensor(self, owner, storage, storage_name, offset, size, stride):
        self.glob("torch._utils", "_rebuild_tensor_v2")
        self.out += b"("
        self.storage(owner, storage, storage_name)
        self.emit(int(offset))
        self.emit(tuple(int(n) for n in size))
        self.emit(tuple(int(s) for s in stride))
        self.emit(False)
        self.emit(OrderedDict())
        self.out += b"tR"  # TUPLE, REDUCE

    def emit(self, obj):
        out = self.out
        if obj is None:
            out += b"N"
        elif obj is True or obj is False:
            out += b"\x88" if obj else b"\x89"
        elif isinstance(obj, int):
            if -2**31 <= obj < 2**31:
                out += b"J" + struct.pack("<i", obj)
            else:
                raw = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
                out += b"\x8a" + bytes([len(raw)]) + raw
        elif isinstance(obj, float):
            out += b"G" + struct.pack(">d", obj)
        elif isinstance(obj, str):
            raw = obj.encode("utf-8")
            out += b"X" + struct.pack("<I", len(raw)) + raw
        elif isinstance(obj, bytes):
            out += b"B" + struct.pack("<I", len(obj)) + obj
        elif isinstance(obj, tuple):
            out += b"("
            for item in obj:
                self.emit(item)
            out += b"t"
        elif isinstance(obj, list):
            out += b"]("
            for item in obj:
                self.emit(item)
            out += b"e"
        elif isinstance(obj, dict):
            if isinstance(obj, OrderedDict):
                self.glob("collections", "OrderedDict")
                out += b")R"
            else:
                out += b"}"
            out += b"("
            for k, v in obj.items():
                self.emit(k)
                self.emit(v)
            out += b"u"
        elif isinstance(obj, BF16):
            flat = obj.bits.reshape(-1)
            self.tensor(obj, flat, "BFloat16Storage", 0, obj.bits.shape, _strides(obj.bits.shape))
        elif isinstance(obj, View):
            self.tensor(obj.storage, obj.storage, _STORAGE[obj.storage.dtype], obj.offset, obj.size, obj.stride)
        elif isinstance(obj, np.ndarray):
            self.tensor(obj, obj.reshape(-1), _STORAGE[obj.dtype], 0, obj.shape, _strides(obj.shape))
        elif isinstance(obj, Call):
            self.glob(obj.module, obj.name)
            self.emit(obj.args)
            out += b"R"
        elif isinstance(obj, Global):
            self.glob(obj.module, obj.name)
        elif isinstance(obj, Object):
            self.glob(obj.module, obj.name)
            out += b")\x81"  # EMPTY_TUPLE, NEWOBJ
            self.emit(obj.state)
            out += b"b"  # BUILD
        else:
            raise TypeError(f"cannot write {type(obj).__name__}")


def _strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def write_pth(path, obj, archive=None, big_endian=False, extra=None):
    """torch.save-format zip holding `obj` (dicts, lists, tuples, scalars,
    numpy arrays / BF16 / View as tensors, Global / Call / Object as other
    globals); `extra` adds members ({name under the archive folder: bytes})."""
    archive = archive or "archive"
    em = _Emitter(big_endian)
    em.emit(obj)
    em.out += b"."
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{archive}/data.pkl", bytes(em.out))
        zf.writestr(f"{archive}/byteorder", "big" if big_endian else "little")
        for key, raw in em.storages:
            zf.writestr(f"{archive}/data/{key}", raw)
        zf.writestr(f"{archive}/version", "3\n")
        for name, raw in (extra or {}).items():
            zf.writestr(f"{archive}/{name}", raw)
