"""DecthingsTensor: typed n-dimensional data in the decthings-api 0.0.4 wire format.

Wire layout of one tensor (several tensors are simply concatenated):

    u8      type byte (f32=1 ... video=16, see `_TYPE_CODES`)
    u8      ndims (so at most 255 dimensions)
    varint  x ndims, each dimension (big-endian varint, see `varint.py`)
    fixed-width types: the raw little-endian elements, row-major, width x prod(shape) bytes, no prefix
    variable types:    varint total length of the element section, then per element (row-major):
        string:              varint(len(utf8)) + utf8
        binary:              varint(len) + bytes
        image/audio/video:   varint(3 + len(data)) + 3-byte ASCII format + data

Decisions that differ from (or pin down) the published 0.0.4 client:

* A numpy array for a fixed-width type must have the mapped dtype's kind and width (float32 for
  "f32", and so on); anything else is a DecthingsTensorError (a ModelwireError and a ValueError)
  naming the dtype needed - values are never silently cast. An array of the right kind and width
  but big-endian (or native-endian on a big-endian host) is accepted and byte-swapped to
  little-endian: that conversion is lossless.
* The tensor keeps a private copy of the data; `numpy()` returns a read-only array.
* Deserialized fixed-width tensors are zero-copy read-only views of the input buffer. If that
  buffer is a bytearray you later mutate, the tensor sees the change: pass bytes, or `.copy()`.
* Data is stored flat with a separate shape, so every wire-legal tensor (up to 255 dims,
  dimensions up to 2**64-1 when another is 0) deserializes and re-serializes; only `numpy()`
  refuses shapes numpy cannot represent (more than 64 dims, dims beyond intp).
* Equality compares element bytes for fixed-width types, so NaN == NaN and 0.0 != -0.0, which
  matches "serializes to the same bytes".
* Fixed: binary tensors accept a list of bytes, audio/video serialize, trailing data after a
  tensor is allowed (so `deserialize_many` of several numeric tensors works), truncated data and
  a wrong element-section length are errors, `serialized_byte_size()` is exact for all types.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias, cast, get_args

import numpy as np
import numpy.typing as npt

from modelwire._core.errors import ModelwireError
from modelwire.decthings.varint import MAX_VARINT, VarintError, decode_varint, encode_varint, varint_size

__all__ = [
    "DecthingsElement",
    "DecthingsElementAudio",
    "DecthingsElementImage",
    "DecthingsElementVideo",
    "DecthingsTensor",
    "DecthingsTensorError",
    "DecthingsTensorType",
    "TensorFormatError",
    "serialize_many",
]

DecthingsTensorType = Literal[
    "f32",
    "f64",
    "i8",
    "i16",
    "i32",
    "i64",
    "u8",
    "u16",
    "u32",
    "u64",
    "string",
    "binary",
    "boolean",
    "image",
    "audio",
    "video",
]

# The byte on the wire is the position in this list, plus one.
_TYPE_CODES: Final[dict[str, int]] = {name: i + 1 for i, name in enumerate(get_args(DecthingsTensorType))}
_CODE_TYPES: Final[dict[int, str]] = {code: name for name, code in _TYPE_CODES.items()}

_FIXED_DTYPES: Final[dict[str, np.dtype[Any]]] = {
    "f32": np.dtype("<f4"),
    "f64": np.dtype("<f8"),
    "i8": np.dtype("i1"),
    "i16": np.dtype("<i2"),
    "i32": np.dtype("<i4"),
    "i64": np.dtype("<i8"),
    "u8": np.dtype("u1"),
    "u16": np.dtype("<u2"),
    "u32": np.dtype("<u4"),
    "u64": np.dtype("<u8"),
    "boolean": np.dtype("?"),
}

_MAX_DIMS: Final = 255
_MEDIA_FORMAT_LEN: Final = 3
# How many elements __repr__ shows, and how many characters of each string.
_REPR_ITEMS: Final = 6
_REPR_CHARS: Final = 24


class DecthingsTensorError(ModelwireError, ValueError):
    """A tensor cannot be built or read as asked; the message says what to change. A ValueError
    too, so code written against the published client's ValueErrors keeps working."""


class TensorFormatError(DecthingsTensorError):
    """Bytes that are not a valid serialized DecthingsTensor (truncated, corrupt, unknown type)."""


class _CallableStr(str):
    """A str that returns itself when called: see _MediaElement."""

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class _CallableBytes(bytes):
    """A bytes that returns itself when called: see _MediaElement."""

    __slots__ = ()

    def __call__(self) -> bytes:
        return bytes(self)


@dataclass(frozen=True, repr=False)
class _MediaElement:
    """`format` and `data` are attributes here and methods in decthings-api 0.0.4 (`el.format()`),
    so their values are a str and a bytes that may also be called: both spellings work."""

    format: str
    data: bytes

    def __post_init__(self) -> None:
        name = type(self).__name__
        fmt: object = self.format
        if not isinstance(fmt, str):
            raise DecthingsTensorError(f"{name} format must be a str like 'png', got {type(fmt).__name__}")
        if len(fmt) != _MEDIA_FORMAT_LEN or not fmt.isascii():
            # The 0.0.4 wire format has a fixed 3-byte slot for the format.
            raise DecthingsTensorError(
                f"{name} format must be exactly 3 ASCII characters (like 'png'), got {fmt!r}"
            )
        data: object = self.data
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecthingsTensorError(f"{name} data must be bytes, got {type(data).__name__}")
        object.__setattr__(self, "format", _CallableStr(fmt))
        object.__setattr__(self, "data", _CallableBytes(data))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(format={self.format!r}, data=<{len(self.data)} bytes>)"


class DecthingsElementImage(_MediaElement):
    """One image: a 3-character format such as "png" or "jpg", and the encoded file bytes."""


class DecthingsElementAudio(_MediaElement):
    """One audio clip: a 3-character format such as "wav" or "mp3", and the encoded file bytes."""


class DecthingsElementVideo(_MediaElement):
    """One video: a 3-character format such as "mp4", and the encoded file bytes."""


DecthingsElement: TypeAlias = (
    int | float | bool | str | bytes | DecthingsElementImage | DecthingsElementAudio | DecthingsElementVideo
)

_MEDIA_CLASSES: Final[dict[str, type[_MediaElement]]] = {
    "image": DecthingsElementImage,
    "audio": DecthingsElementAudio,
    "video": DecthingsElementVideo,
}


def _check_shape(shape: object) -> tuple[int, ...]:
    if not isinstance(shape, (list, tuple)):
        raise DecthingsTensorError(f"shape must be a list of non-negative ints, got {type(shape).__name__}")
    if len(shape) > _MAX_DIMS:
        raise DecthingsTensorError(
            f"shape has {len(shape)} dimensions; the wire format allows at most {_MAX_DIMS}"
        )
    dims = []
    for i, d in enumerate(shape):
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
            raise DecthingsTensorError(f"shape[{i}] must be an int, got {type(d).__name__} {d!r}")
        if not 0 <= int(d) <= MAX_VARINT:
            raise DecthingsTensorError(f"shape[{i}] must be between 0 and 2**64-1, got {int(d)}")
        dims.append(int(d))
    return tuple(dims)


def _fixed_from_list(data_type: str, items: list[Any] | tuple[Any, ...]) -> npt.NDArray[Any]:
    dtype = _FIXED_DTYPES[data_type]
    if data_type == "boolean":
        for i, v in enumerate(items):
            if not isinstance(v, (bool, np.bool_)):
                raise DecthingsTensorError(
                    f"element {i} of a 'boolean' tensor must be a bool, got {type(v).__name__}"
                )
        return np.array(items, dtype=dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        for i, v in enumerate(items):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
                raise DecthingsTensorError(
                    f"element {i} of an {data_type!r} tensor must be an int, got {type(v).__name__} {v!r}"
                )
            if not info.min <= int(v) <= info.max:
                raise DecthingsTensorError(
                    f"element {i} of an {data_type!r} tensor is {int(v)}, outside [{info.min}, {info.max}]"
                )
        return np.array([int(v) for v in items], dtype=dtype)
    floats = []
    for i, v in enumerate(items):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise DecthingsTensorError(
                f"element {i} of an {data_type!r} tensor must be a real number, got {type(v).__name__} {v!r}"
            )
        try:
            floats.append(float(v))
        except OverflowError:
            raise DecthingsTensorError(
                f"element {i} of an {data_type!r} tensor is too large: {v!r}"
            ) from None
    wide = np.array(floats, dtype=np.float64)
    with np.errstate(over="ignore"):
        out = wide.astype(dtype)
    # A finite value that became infinite did not fit (only possible for f32).
    overflowed = np.flatnonzero(np.isinf(out) & np.isfinite(wide))
    if overflowed.size:
        i = int(overflowed[0])
        raise DecthingsTensorError(
            f"element {i} of an {data_type!r} tensor is {floats[i]!r}, too large for {data_type}"
        )
    return out


def _fixed_from_array(data_type: str, arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    dtype = _FIXED_DTYPES[data_type]
    have = arr.dtype
    same_kind = have.kind == dtype.kind and have.itemsize == dtype.itemsize and not have.fields
    if not same_kind:
        raise DecthingsTensorError(
            f"a {data_type!r} tensor needs a numpy array of dtype {dtype.name} ({dtype.str!r}), "
            f"got {have.name} ({have.str!r}); convert it with arr.astype({dtype.str!r}) if that is intended"
        )
    # Same kind and width: a byte-order difference converts losslessly. Always copy, in C order.
    return arr.astype(dtype, order="C", copy=True).reshape(-1)


def _check_element(data_type: str, el: object, i: int) -> object:
    if data_type == "string":
        if not isinstance(el, str):
            hint = " (decode it, or use data_type 'binary')" if isinstance(el, (bytes, bytearray)) else ""
            raise DecthingsTensorError(
                f"element {i} of a 'string' tensor must be a str, got {type(el).__name__}{hint}"
            )
        try:
            el.encode("utf-8")
        except UnicodeEncodeError as e:
            raise DecthingsTensorError(
                f"element {i} of a 'string' tensor cannot be encoded as UTF-8: {e}"
            ) from None
        return str(el)  # np.str_ -> str
    if data_type == "binary":
        if not isinstance(el, (bytes, bytearray, memoryview)):
            hint = " (encode it, or use data_type 'string')" if isinstance(el, str) else ""
            raise DecthingsTensorError(
                f"element {i} of a 'binary' tensor must be bytes, got {type(el).__name__}{hint}"
            )
        return bytes(el)  # np.bytes_/bytearray/memoryview -> bytes
    cls = _MEDIA_CLASSES[data_type]
    if not isinstance(el, cls):
        raise DecthingsTensorError(
            f"element {i} of an {data_type!r} tensor must be a {cls.__name__}, got {type(el).__name__}"
        )
    return el


def _variable_from_iter(data_type: str, items: Iterable[object], n: int) -> npt.NDArray[Any]:
    out = np.empty(n, dtype=object)
    # Assign one by one: slice assignment would let numpy try to unpack sequence-like elements.
    for i, el in enumerate(items):
        out[i] = _check_element(data_type, el, i)
    return out


def _element_payload(data_type: str, el: Any) -> list[bytes]:
    """The bytes of one variable-width element, without its length prefix, in pieces."""
    if data_type == "string":
        return [cast(str, el).encode("utf-8")]
    if data_type == "binary":
        return [cast(bytes, el)]
    media = cast(_MediaElement, el)
    return [media.format.encode("ascii"), media.data]


def _short_repr(data_type: str, el: Any) -> str:
    if data_type in _FIXED_DTYPES:
        return repr(el.item())
    if isinstance(el, str):
        return repr(el if len(el) <= _REPR_CHARS else el[:_REPR_CHARS] + "...")
    if isinstance(el, bytes):
        return f"<{len(el)} bytes>"
    return repr(el)


def _byte_view(data: bytes | bytearray | memoryview) -> memoryview:
    # Index and slice in bytes whatever the buffer's item format is.
    view = memoryview(data)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class DecthingsTensor:
    """An immutable tensor of one of the 16 Decthings element types.

    `DecthingsTensor(["My input text"], "string", [])` is a scalar string;
    `DecthingsTensor([1.0, 2.0, 3.0, 4.0], "f32", [2, 2])` a 2x2 float32 matrix;
    `DecthingsTensor(np.zeros((2, 3), "<f4"), "f32")` takes its shape from the array.

    A list is read row-major and must hold prod(shape) elements (shape `[]` is a scalar with one
    element; with shape None a list is one-dimensional). Media tensors hold
    DecthingsElementImage/Audio/Video values."""

    __slots__ = ("_flat", "_shape", "_type")

    _type: str
    _shape: tuple[int, ...]
    _flat: npt.NDArray[Any]

    def __init__(
        self,
        data: list[Any] | tuple[Any, ...] | npt.NDArray[Any],
        data_type: DecthingsTensorType,
        shape: list[int] | tuple[int, ...] | None = None,
    ) -> None:
        dt: object = data_type
        if not isinstance(dt, str) or dt not in _TYPE_CODES:
            raise DecthingsTensorError(f"unknown data_type {dt!r}; expected one of {', '.join(_TYPE_CODES)}")
        dims = None if shape is None else _check_shape(shape)
        if isinstance(data, np.ndarray):
            array_dims = tuple(int(d) for d in data.shape)
            if dims is None:
                dims = array_dims
            elif dims != array_dims and not (data.ndim == 1 and math.prod(dims) == data.size):
                # A flat array is read into `shape` in row-major order, as a list is (and as
                # decthings-api 0.0.4 reshapes it); any other mismatch, a transposed shape say, is
                # more likely a mistake than a reshape.
                raise DecthingsTensorError(
                    f"shape {list(dims)} does not match the numpy array's shape {list(array_dims)} "
                    "(a 1-D array of the same size is reshaped; pass arr.reshape(-1) to mean that)"
                )
            if data_type in _FIXED_DTYPES:
                flat = _fixed_from_array(data_type, data)
            else:
                # reshape(-1) reads in C (row-major) order whatever the array's memory layout.
                flat = _variable_from_iter(data_type, data.reshape(-1), data.size)
        elif isinstance(data, (list, tuple)):
            if dims is None:
                dims = (len(data),)
            count = math.prod(dims)
            if len(data) != count:
                raise DecthingsTensorError(
                    f"shape {list(dims)} needs {count} elements (row-major, flat list), got {len(data)}"
                )
            if data_type in _FIXED_DTYPES:
                flat = _fixed_from_list(data_type, data)
            else:
                flat = _variable_from_iter(data_type, data, count)
        else:
            raise DecthingsTensorError(f"data must be a list or a numpy array, got {type(data).__name__}")
        self._init(data_type, dims, flat)

    def _init(self, data_type: str, dims: tuple[int, ...], flat: npt.NDArray[Any]) -> None:
        flat.flags.writeable = False
        self._type = data_type
        self._shape = dims
        self._flat = flat

    @classmethod
    def _trusted(cls, data_type: str, dims: tuple[int, ...], flat: npt.NDArray[Any]) -> DecthingsTensor:
        tensor = cls.__new__(cls)
        tensor._init(data_type, dims, flat)
        return tensor

    # --- accessors -------------------------------------------------------------------------------

    def type(self) -> DecthingsTensorType:
        """The element type, e.g. "f32", "string" or "image" (a `DecthingsTensorType`)."""
        return cast(DecthingsTensorType, self._type)

    def shape(self) -> list[int]:
        """The shape as a new list of ints (`[]` for a scalar)."""
        return list(self._shape)

    def item(self) -> DecthingsElement:
        """The only element of a one-element tensor, as a Python value."""
        if self._flat.size != 1:
            raise DecthingsTensorError(
                f"item() needs a tensor with exactly one element; this one has shape {list(self._shape)} "
                f"({self._flat.size} elements)"
            )
        el = self._flat[0]
        return cast(DecthingsElement, el.item() if self._type in _FIXED_DTYPES else el)

    def numpy(self) -> npt.NDArray[Any]:
        """A read-only array: the little-endian dtype for fixed-width types, dtype object otherwise.

        Raises DecthingsTensorError for shapes numpy cannot hold (more than 64 dims, or a dimension beyond
        2**63-1 next to a zero dimension); such tensors still serialize."""
        try:
            return self._flat.reshape(self._shape)
        except (ValueError, OverflowError) as e:
            raise DecthingsTensorError(
                f"shape {list(self._shape)} cannot be represented as a numpy array: {e}"
            ) from e

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DecthingsTensor):
            return NotImplemented
        if self._type != other._type or self._shape != other._shape:
            return False
        if self._type in _FIXED_DTYPES:
            return self._flat.tobytes() == other._flat.tobytes()
        return all(a == b for a, b in zip(self._flat, other._flat, strict=True))

    def __repr__(self) -> str:
        shown = [_short_repr(self._type, el) for el in self._flat[:_REPR_ITEMS]]
        if self._flat.size > _REPR_ITEMS:
            shown.append(f"... {self._flat.size - _REPR_ITEMS} more")
        return f"DecthingsTensor(type={self._type!r}, shape={list(self._shape)}, data=[{', '.join(shown)}])"

    # --- wire format -----------------------------------------------------------------------------

    def serialize(self) -> bytes:
        """The tensor in decthings-api 0.0.4's wire format (what the blob framing carries).

        Returns:
            The bytes: type code, rank, varint dimensions, then the elements.
        """
        parts = [bytes((_TYPE_CODES[self._type], len(self._shape)))]
        parts.extend(encode_varint(d) for d in self._shape)
        if self._type in _FIXED_DTYPES:
            parts.append(self._flat.tobytes())  # stored little-endian, C order
            return b"".join(parts)
        body: list[bytes] = []
        total = 0
        for el in self._flat:
            payload = _element_payload(self._type, el)
            length = sum(len(p) for p in payload)
            prefix = encode_varint(length)
            body.append(prefix)
            body.extend(payload)
            total += len(prefix) + length
        parts.append(encode_varint(total))
        parts.extend(body)
        return b"".join(parts)

    def serialized_byte_size(self) -> int:
        """len(self.serialize()), computed without building the bytes."""
        size = 2 + sum(varint_size(d) for d in self._shape)
        if self._type in _FIXED_DTYPES:
            return size + self._flat.nbytes
        total = 0
        for el in self._flat:
            if self._type == "string":
                length = len(cast(str, el).encode("utf-8"))
            elif self._type == "binary":
                length = len(cast(bytes, el))
            else:
                length = _MEDIA_FORMAT_LEN + len(cast(_MediaElement, el).data)
            total += varint_size(length) + length
        return size + varint_size(total) + total

    @classmethod
    def deserialize(cls, data: bytes | bytearray | memoryview, pos: int = 0) -> tuple[DecthingsTensor, int]:
        """Read one tensor at `data[pos:]`; returns `(tensor, position after it)`.

        Trailing bytes are left alone. Raises TensorFormatError for truncated or corrupt input."""
        if pos < 0:
            raise DecthingsTensorError(f"pos must be non-negative, got {pos}")
        view = _byte_view(data)
        end = len(view)
        if pos + 2 > end:
            raise TensorFormatError(
                f"truncated tensor header at offset {pos}: need type and ndims bytes, "
                f"{max(end - pos, 0)} left"
            )
        code = view[pos]
        data_type = _CODE_TYPES.get(code)
        if data_type is None:
            raise TensorFormatError(
                f"unknown tensor type byte {code} (0x{code:02X}) at offset {pos}; expected 1-16"
            )
        ndims = view[pos + 1]
        p = pos + 2
        dims = []
        for i in range(ndims):
            try:
                d, p = decode_varint(view, p)
            except VarintError as e:
                raise TensorFormatError(
                    f"truncated {data_type} tensor header: dimension {i} of {ndims}: {e}"
                ) from e
            dims.append(d)
        count = math.prod(dims)
        dtype = _FIXED_DTYPES.get(data_type)
        if dtype is not None:
            # Checked before any allocation: a hostile header cannot make us reserve memory.
            need = dtype.itemsize * count
            if need > end - p:
                raise TensorFormatError(
                    f"truncated {data_type} tensor data at offset {p}: shape {dims} needs {need} bytes, "
                    f"{end - p} left"
                )
            if data_type == "boolean":
                raw = np.frombuffer(view, dtype=np.uint8, count=count, offset=p)
                if count and int(raw.max()) > 1:
                    raise TensorFormatError(
                        f"corrupt boolean tensor at offset {p}: a byte is neither 0 nor 1"
                    )
                flat = raw.view(np.bool_)
            else:
                flat = np.frombuffer(view, dtype=dtype, count=count, offset=p)
            return cls._trusted(data_type, tuple(dims), flat), p + need
        try:
            total, p = decode_varint(view, p)
        except VarintError as e:
            raise TensorFormatError(f"truncated {data_type} tensor: element-section length: {e}") from e
        if total > end - p:
            raise TensorFormatError(
                f"truncated {data_type} tensor at offset {p}: element section is {total} bytes, "
                f"{end - p} left"
            )
        if count > total:
            # Every element takes at least its 1-byte length, so this also bounds the allocation.
            raise TensorFormatError(
                f"corrupt {data_type} tensor: shape {dims} has {count} elements but the element section "
                f"is only {total} bytes"
            )
        section_end = p + total
        section = view[:section_end]  # varints and elements cannot read past the declared section
        flat = np.empty(count, dtype=object)
        for i in range(count):
            try:
                length, p = decode_varint(section, p)
            except VarintError as e:
                raise TensorFormatError(f"truncated {data_type} tensor: element {i} length: {e}") from e
            if length > section_end - p:
                raise TensorFormatError(
                    f"truncated {data_type} tensor: element {i} is {length} bytes, the element section "
                    f"has {section_end - p} left"
                )
            flat[i] = cls._decode_element(data_type, section, p, length, i)
            p += length
        if p != section_end:
            raise TensorFormatError(
                f"corrupt {data_type} tensor: element section declares {total} bytes, "
                f"the elements use {total - (section_end - p)}"
            )
        return cls._trusted(data_type, tuple(dims), flat), p

    @staticmethod
    def _decode_element(data_type: str, section: memoryview, p: int, length: int, i: int) -> object:
        if data_type == "string":
            try:
                return str(section[p : p + length], "utf-8")
            except UnicodeDecodeError as e:
                raise TensorFormatError(f"corrupt string tensor: element {i} is not UTF-8: {e}") from None
        if data_type == "binary":
            return bytes(section[p : p + length])
        if length < _MEDIA_FORMAT_LEN:
            raise TensorFormatError(
                f"corrupt {data_type} tensor: element {i} is {length} bytes, shorter than its 3-byte format"
            )
        try:
            fmt = str(section[p : p + _MEDIA_FORMAT_LEN], "ascii")
        except UnicodeDecodeError:
            raise TensorFormatError(f"corrupt {data_type} tensor: element {i} format is not ASCII") from None
        return _MEDIA_CLASSES[data_type](fmt, bytes(section[p + _MEDIA_FORMAT_LEN : p + length]))

    @classmethod
    def deserialize_many(cls, data: bytes | bytearray | memoryview) -> list[DecthingsTensor]:
        """All tensors concatenated in `data`, which must end exactly after the last one."""
        view = _byte_view(data)
        tensors = []
        pos = 0
        while pos < len(view):
            tensor, pos = cls.deserialize(view, pos)
            tensors.append(tensor)
        return tensors


def serialize_many(tensors: Iterable[DecthingsTensor]) -> bytes:
    """The concatenation `deserialize_many` reads."""
    return b"".join(t.serialize() for t in tensors)
