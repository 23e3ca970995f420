"""Reads a `torch.save` checkpoint into numpy arrays, without torch and without
executing pickled code.

A torch.save file is a zip: `<prefix>/data.pkl` (the pickled object),
`<prefix>/data/<key>` (raw storages), `<prefix>/version`, maybe
`<prefix>/byteorder`. A TorchScript archive (torch.jit.save, e.g. OpenAI's
ViT-B-32.pt) has the same parts plus code and constants; its module tree is
flattened into a state dict. The restricted unpickler resolves only the globals it can
build safely (tensors, OrderedDict, numpy arrays and scalars, a few pure
builtins); every other global becomes an inert `Placeholder`.
"""

import collections
import io
import pickle
import re
import zipfile
import zlib

import numpy as np

from errors import ConvertError

# torch storage class name -> numpy dtype ("bf16" is widened to float32).
_STORAGE_DTYPES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2",
    "BFloat16Storage": "bf16", "LongStorage": "<i8", "IntStorage": "<i4",
    "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "?", "UntypedStorage": "u1",
}

# Magic number a legacy (pre zip, torch < 1.6) torch.save file starts with.
_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

_SIMPLE_DTYPE = re.compile(r"^[<>|=]?[biufc?][0-9]{0,2}$")


class Placeholder:
    """Stands for a global the reader refuses to resolve: takes any arguments,
    state and items, keeps them for inspection, and runs nothing."""

    qualname = "?"

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.__dict__.update(args=args, kwargs=kwargs, state=None, items=[])
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Placeholder(*args, **kwargs)

    def __setstate__(self, state):
        self.__dict__["state"] = state

    def __setitem__(self, key, value):
        self.items.append((key, value))

    def append(self, value):
        self.items.append(value)

    def extend(self, values):
        self.items.extend(values)

    def __repr__(self):
        return f"<placeholder {self.qualname}>"


def _placeholder_class(module, name):
    return type("Placeholder", (Placeholder,), {"qualname": f"{module}.{name}"})


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _SafeArray(np.ndarray):
    """Target of numpy's `_reconstruct`: refuses object arrays, whose state
    would be arbitrary pickled objects."""

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5:
            raise pickle.UnpicklingError("malformed numpy array state")
        dtype = state[2]
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            return  # left empty: an object array is never needed here
        if not isinstance(state[4], (bytes, bytearray)):
            raise pickle.UnpicklingError("numpy array state without raw bytes")
        super().__setstate__(state)


def _np_reconstruct(subtype, shape, dtype_code):
    return np.ndarray.__new__(_SafeArray, (0,), "b")


def _np_dtype(spec, align=False, copy=False):
    if not isinstance(spec, str) or not _SIMPLE_DTYPE.match(spec):
        return Placeholder(spec)  # object or structured dtype: not needed, not built
    return np.dtype(spec, bool(align), bool(copy))


def _np_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or not isinstance(data, bytes) or len(data) != dtype.itemsize:
        return Placeholder(dtype, data)
    return np.frombuffer(data, dtype)[0]


def _codecs_encode(text, encoding="utf-8", errors="strict"):
    # Protocol-2 pickles write bytes as _codecs.encode(str, "latin1").
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode used for something other than latin1 bytes")
    return text.encode("latin1")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *unused):
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise pickle.UnpicklingError("tensor without a storage")
    try:
        offset = int(storage_offset)
        size = tuple(int(n) for n in size)
        stride = tuple(int(s) for s in stride)
    except (TypeError, ValueError):
        raise pickle.UnpicklingError("tensor with a malformed size or stride") from None
    if len(size) != len(stride) or min(size + stride + (offset,), default=0) < 0:
        raise pickle.UnpicklingError(f"tensor with a malformed size {size} or stride {stride}")
    if 0 in size:
        return np.zeros(size, storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.shape[0]:
        raise pickle.UnpicklingError(
            f"tensor of size {size} at offset {offset} reaches past its storage of {storage.shape[0]} elements")
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=[s * storage.itemsize for s in stride], writeable=False)
    return np.array(view)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *unused):
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    # Tensor subclasses (nn.Parameter in torch 2): keep the plain tensor.
    if func not in (_rebuild_tensor_v2, _rebuild_parameter):
        raise pickle.UnpicklingError("unsupported tensor rebuild function")
    return func(*args)


_NP_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")

_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Size"): tuple,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _np_dtype,
    ("_codecs", "encode"): _codecs_encode,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("builtins", "slice"): slice,
}
for _m in _NP_CORE:
    _ALLOWED[(_m, "_reconstruct")] = _np_reconstruct
    _ALLOWED[(_m, "scalar")] = _np_scalar


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, load_storage):
        super().__init__(file)
        self._load_storage = load_storage

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        return _placeholder_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        storage_type, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage type {storage_type!r}")
        if not isinstance(key, str) or not isinstance(numel, int):
            raise pickle.UnpicklingError("malformed storage reference")
        return self._load_storage(storage_type.dtype, key, numel)


def _open_zip(path):
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise ConvertError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError):
        pass
    if head.startswith(b"PK"):
        raise ConvertError(f"{path}: damaged or truncated zip archive (cannot read its directory)")
    if head.startswith(_LEGACY_MAGIC):
        raise ConvertError(
            f"{path}: legacy (torch < 1.6, non-zip) checkpoint format is not supported; "
            "re-save it with torch >= 1.6: torch.save(torch.load(p), p2)")
    raise ConvertError(f"{path}: not a PyTorch checkpoint (a torch.save file is a zip archive)")


def load_checkpoint(path):
    """Returns the object pickled in the torch.save file `path`, tensors as numpy arrays."""
    zf = _open_zip(path)
    with zf:
        names = zf.namelist()
        pkls = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        torchscript = any(n.endswith("/constants.pkl") and n.count("/") == 1 for n in names)
        if len(pkls) != 1:
            raise ConvertError(f"{path}: zip archive is not a PyTorch checkpoint (no single <name>/data.pkl)")
        prefix = pkls[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = _read_member(zf, path, prefix + "byteorder").decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise ConvertError(f"{path}: unknown byteorder {byteorder!r}")
        storages = {}

        def load_storage(dtype, key, numel):
            if key not in storages:
                raw = _read_member(zf, path, f"{prefix}data/{key}")
                storages[key] = _decode_storage(path, key, raw, dtype, numel, byteorder)
            return storages[key]

        data = _read_member(zf, path, pkls[0])
        try:
            obj = _RestrictedUnpickler(io.BytesIO(data), load_storage).load()
        except ConvertError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError, OverflowError, MemoryError) as e:
            raise ConvertError(f"{path}: cannot unpickle {pkls[0]}: {e}") from None
    return _torchscript_state_dict(obj, path) if torchscript else obj


def _torchscript_state_dict(root, path):
    """The tensors of a TorchScript archive's module tree (e.g. OpenAI's
    ViT-B-32.pt) as a state dict. Its data.pkl pickles each module as a
    `__torch__.*` object whose state maps attribute names to tensors and
    submodules; only that data is read, the archive's code never is."""
    if not (isinstance(root, Placeholder) and root.qualname.startswith("__torch__.")):
        raise ConvertError(f"{path}: a TorchScript archive whose data.pkl holds no module")
    out = collections.OrderedDict()

    def walk(module, prefix):
        state = module.state if isinstance(module.state, dict) else {}
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                out[prefix + name] = value
            elif isinstance(value, Placeholder) and value.qualname.startswith("__torch__."):
                walk(value, f"{prefix}{name}.")

    walk(root, "")
    return out


def _read_member(zf, path, name):
    try:
        return zf.read(name)
    except KeyError:
        raise ConvertError(f"{path}: zip archive has no entry {name}") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, NotImplementedError) as e:
        raise ConvertError(f"{path}: damaged or truncated zip archive (entry {name}: {e})") from None


def _decode_storage(path, key, raw, dtype, numel, byteorder):
    itemsize = 2 if dtype == "bf16" else np.dtype(dtype).itemsize
    if len(raw) != numel * itemsize:
        raise ConvertError(
            f"{path}: storage data/{key} has {len(raw)} bytes, expected {numel} x {itemsize}")
    if dtype == "bf16":
        bits = np.frombuffer(raw, "<u2" if byteorder == "little" else ">u2").astype(np.uint32)
        return (bits << 16).view(np.float32)
    dt = np.dtype(dtype)
    if byteorder == "big" and dt.itemsize > 1:
        dt = dt.newbyteorder(">")
    return np.frombuffer(raw, dt).astype(dt.newbyteorder("="), copy=False)
