"""DecthingsTensor: the 0.0.4 wire bytes, round trips for every type, numpy interop, validation, fuzzing."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from modelwire.decthings import (
    DecthingsElementAudio,
    DecthingsElementImage,
    DecthingsElementVideo,
    DecthingsTensor,
    DecthingsTensorType,
    TensorFormatError,
    VarintError,
    encode_varint,
    serialize_many,
)

FIXED = {
    "f32": "<f4",
    "f64": "<f8",
    "i8": "i1",
    "i16": "<i2",
    "i32": "<i4",
    "i64": "<i8",
    "u8": "u1",
    "u16": "<u2",
    "u32": "<u4",
    "u64": "<u8",
    "boolean": "?",
}
ALL_TYPES: list[DecthingsTensorType] = [
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
MEDIA = {"image": DecthingsElementImage, "audio": DecthingsElementAudio, "video": DecthingsElementVideo}
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the reference's verified bytes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tensor", "expected_hex"),
    [
        (
            DecthingsTensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "f32", [2, 3]),
            "01 02 02 03 0000803f 00000040 00004040 00008040 0000a040 0000c040",
        ),
        (DecthingsTensor(["ab", "héllo"], "string", [2]), "0b 01 02 0a 02 6162 06 68c3a96c6c6f"),
        (
            DecthingsTensor([DecthingsElementImage("png", b"\x89PNG")], "image", [1]),
            "0e 01 01 08 07 706e67 89504e47",
        ),
        (DecthingsTensor([True, False], "boolean", [2]), "0d 01 02 01 00"),
        (DecthingsTensor([1, -2], "i16", [2]), "04 01 02 0100 feff"),
        # dimension 300 -> fd 012c
        (DecthingsTensor([], "u8", [300, 0]), "07 02 fd012c 00"),
        # the seed's scalars
        (DecthingsTensor(["My input text"], "string", []), "0b 00 0e 0d" + b"My input text".hex()),
        (DecthingsTensor([7], "i32", []), "05 00 07000000"),
    ],
)
def test_verified_bytes(tensor: DecthingsTensor, expected_hex: str) -> None:
    expected = bytes.fromhex(expected_hex.replace(" ", ""))
    assert tensor.serialize() == expected
    assert tensor.serialized_byte_size() == len(expected)
    back, end = DecthingsTensor.deserialize(expected)
    assert back == tensor and end == len(expected)


def test_type_bytes_follow_the_table() -> None:
    for code, data_type in enumerate(ALL_TYPES, start=1):
        assert DecthingsTensor([], data_type, [0]).serialize()[0] == code


def test_media_byte_size_includes_the_format_bytes() -> None:
    # The published serialized_byte_size() said 9 for this tensor; it is 12.
    t = DecthingsTensor([DecthingsElementImage("png", b"\x89PNG")], "image", [1])
    assert t.serialized_byte_size() == len(t.serialize()) == 12


def test_published_bugs_are_fixed() -> None:
    # audio/video serialize (0.0.4 raised "Corrupt tensor.")
    for cls, data_type, fmt in [
        (DecthingsElementAudio, "audio", "wav"),
        (DecthingsElementVideo, "video", "mp4"),
    ]:
        t = DecthingsTensor([cls(fmt, b"abc")], data_type, [])  # type: ignore[arg-type]
        assert DecthingsTensor.deserialize(t.serialize())[0] == t
    # binary from a list of bytes
    b = DecthingsTensor([b"\x00\x01", b""], "binary", [2])
    assert b.numpy().tolist() == [b"\x00\x01", b""]
    # several numeric tensors concatenated (0.0.4 rejected trailing data)
    parts = [DecthingsTensor([1, 2], "i32"), DecthingsTensor([3.5], "f64", [])]
    assert DecthingsTensor.deserialize_many(serialize_many(parts)) == parts
    # multi-dim variable byte size
    s = DecthingsTensor(["a", "bb", "ccc", "d"], "string", [2, 2])
    assert s.serialized_byte_size() == len(s.serialize())


# --- round trips ------------------------------------------------------------------------------------

_INT_RANGES = {
    name: np.iinfo(np.dtype(FIXED[name])) for name in ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64")
}


def _elements(data_type: str) -> st.SearchStrategy[Any]:
    if data_type == "f32":
        return st.floats(width=32)
    if data_type == "f64":
        return st.floats()
    if data_type in _INT_RANGES:
        info = _INT_RANGES[data_type]
        return st.integers(min_value=int(info.min), max_value=int(info.max))
    if data_type == "boolean":
        return st.booleans()
    if data_type == "string":
        return st.text(max_size=12)
    if data_type == "binary":
        return st.binary(max_size=12)
    fmt = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), min_size=3, max_size=3)
    return st.builds(MEDIA[data_type], fmt, st.binary(max_size=12))


shapes = st.lists(st.integers(min_value=0, max_value=4), max_size=3)


@st.composite
def tensors(draw: st.DrawFn, data_type: str | None = None) -> DecthingsTensor:
    chosen = data_type or draw(st.sampled_from(ALL_TYPES))
    shape = draw(shapes)
    count = math.prod(shape)
    items = draw(st.lists(_elements(chosen), min_size=count, max_size=count))
    return DecthingsTensor(items, chosen, shape)  # type: ignore[arg-type]


@pytest.mark.parametrize("data_type", ALL_TYPES)
@PROPERTY
@given(data=st.data())
def test_round_trip_every_type(data_type: str, data: st.DataObject) -> None:
    t = data.draw(tensors(data_type))
    wire = t.serialize()
    assert len(wire) == t.serialized_byte_size()
    back, end = DecthingsTensor.deserialize(wire + b"\x99trailing")
    assert end == len(wire)
    assert back == t
    assert back.serialize() == wire
    assert back.type() == data_type and back.shape() == t.shape()
    assert back.numpy().shape == tuple(t.shape())


@PROPERTY
@given(st.lists(tensors(), max_size=5))
def test_deserialize_many_round_trip(items: list[DecthingsTensor]) -> None:
    assert DecthingsTensor.deserialize_many(serialize_many(items)) == items


@PROPERTY
@given(
    st.sampled_from(list(FIXED)).flatmap(
        lambda t: st.tuples(
            st.just(t),
            hnp.arrays(np.dtype(FIXED[t]), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
        )
    )
)
def test_numpy_round_trip(case: tuple[str, np.ndarray[Any, Any]]) -> None:
    data_type, arr = case
    t = DecthingsTensor(arr, data_type)  # type: ignore[arg-type]
    assert t.shape() == list(arr.shape)
    out = t.numpy()
    assert out.dtype == np.dtype(FIXED[data_type]) and out.shape == arr.shape
    assert out.tobytes() == np.ascontiguousarray(arr).tobytes()
    assert DecthingsTensor.deserialize(t.serialize())[0].numpy().tobytes() == out.tobytes()


# --- numpy interop ----------------------------------------------------------------------------------


def test_scalars_and_zero_size() -> None:
    s = DecthingsTensor([7], "i32", [])
    assert s.shape() == [] and s.item() == 7 and isinstance(s.item(), int)
    assert s.numpy().shape == () and s.numpy().dtype == np.dtype("<i4")
    z = DecthingsTensor(np.zeros((2, 0, 3), dtype="<f8"), "f64")
    assert z.shape() == [2, 0, 3] and z.numpy().size == 0
    assert DecthingsTensor.deserialize(z.serialize())[0] == z
    assert DecthingsTensor(np.array(1.5, dtype="<f4"), "f32").shape() == []
    assert DecthingsTensor([], "string").shape() == [0]


def test_item_returns_python_values() -> None:
    assert DecthingsTensor([True], "boolean", []).item() is True
    assert DecthingsTensor([2.5], "f64", [1, 1]).item() == 2.5
    assert DecthingsTensor(["x"], "string", []).item() == "x"
    img = DecthingsElementImage("png", b"1")
    assert DecthingsTensor([img], "image", []).item() == img
    with pytest.raises(ValueError, match=r"exactly one element.*shape \[2\]"):
        DecthingsTensor([1, 2], "i32").item()


def test_fortran_order_input_is_serialized_row_major() -> None:
    arr = np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3))
    t = DecthingsTensor(arr, "i32")
    assert t.serialize() == bytes.fromhex("05 02 02 03") + np.arange(6, dtype="<i4").tobytes()
    assert t.numpy().flags.c_contiguous


def test_construction_copies_and_numpy_is_read_only() -> None:
    arr = np.arange(4, dtype="<i8")
    t = DecthingsTensor(arr, "i64")
    arr[0] = 99
    assert t.numpy()[0] == 0
    assert not t.numpy().flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        t.numpy()[0] = 5


def test_deserialized_fixed_tensors_are_zero_copy_read_only_views() -> None:
    wire = DecthingsTensor(np.arange(8, dtype="<u2"), "u16").serialize()
    buf = bytearray(wire)
    t, _ = DecthingsTensor.deserialize(buf)
    out = t.numpy()
    assert not out.flags.writeable
    assert np.shares_memory(out, np.frombuffer(buf, dtype=np.uint8))


def test_native_and_big_endian_arrays() -> None:
    native = np.array([1.0, 2.0], dtype="=f4")
    assert DecthingsTensor(native, "f32").numpy().dtype == np.dtype("<f4")
    # Big-endian of the right kind and width is converted losslessly (0.0.4 rejected it).
    big = np.array([1.0, -2.5], dtype=">f4")
    t = DecthingsTensor(big, "f32")
    assert t.numpy().dtype == np.dtype("<f4") and t.numpy().tolist() == [1.0, -2.5]
    assert t.serialize()[3:] == np.array([1.0, -2.5], dtype="<f4").tobytes()
    assert DecthingsTensor(np.array([1, 2], dtype=">u8"), "u64").numpy().tolist() == [1, 2]


def test_variable_numpy_arrays() -> None:
    t = DecthingsTensor(np.array([["a", "b"], ["c", "d"]]), "string")
    assert t.shape() == [2, 2]
    out = t.numpy()
    assert out.dtype == object and out[1, 0] == "c" and type(out[1, 0]) is str
    objs = np.empty(2, dtype=object)
    objs[:] = [b"x", b"yz"]
    assert DecthingsTensor(objs, "binary").numpy().tolist() == [b"x", b"yz"]


def test_shapes_numpy_cannot_hold_still_serialize() -> None:
    deep = DecthingsTensor([5], "u8", [1] * 100)
    assert DecthingsTensor.deserialize(deep.serialize())[0] == deep
    with pytest.raises(ValueError, match="cannot be represented as a numpy array"):
        deep.numpy()
    huge = DecthingsTensor([], "f32", [0, 2**64 - 1])
    assert DecthingsTensor.deserialize(huge.serialize())[0] == huge
    with pytest.raises(ValueError, match="cannot be represented"):
        huge.numpy()


# --- equality and repr ------------------------------------------------------------------------------


def test_equality() -> None:
    assert DecthingsTensor([1, 2], "i32") == DecthingsTensor(np.array([1, 2], dtype="<i4"), "i32")
    assert DecthingsTensor([1, 2], "i32") != DecthingsTensor([1, 2], "i64")
    assert DecthingsTensor([1, 2], "i32", [2]) != DecthingsTensor([1, 2], "i32", [1, 2])
    assert DecthingsTensor([float("nan")], "f64") == DecthingsTensor([float("nan")], "f64")
    assert DecthingsTensor([1], "i32") != [1]
    img, aud = DecthingsElementImage("wav", b"x"), DecthingsElementAudio("wav", b"x")
    assert img != aud  # type: ignore[comparison-overlap]


def test_repr_is_short() -> None:
    big = DecthingsTensor(np.zeros(1_000_000, dtype="<f4"), "f32")
    assert len(repr(big)) < 200 and "999994 more" in repr(big)
    text = DecthingsTensor(["x" * 100_000], "string", [])
    assert len(repr(text)) < 200
    blob = DecthingsTensor([b"\x00" * 100_000], "binary", [])
    assert "<100000 bytes>" in repr(blob)
    assert (
        repr(DecthingsElementVideo("mp4", b"\x00" * 50))
        == "DecthingsElementVideo(format='mp4', data=<50 bytes>)"
    )


# --- constructor validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1.0], "float32", [1]), "unknown data_type 'float32'"),
        (
            (np.zeros(2, dtype=np.float64), "f32"),
            r"needs a numpy array of dtype float32 \('<f4'\), got float64",
        ),
        ((np.zeros(2, dtype=np.int64), "i32"), r"dtype int32 .* got int64"),
        ((np.zeros(2, dtype=np.uint8), "boolean"), "dtype bool"),
        ((np.zeros((2, 3), dtype="<f4"), "f32", [3, 2]), r"shape \[3, 2\] does not match .* \[2, 3\]"),
        (([1, 2, 3], "i32", [2, 2]), r"shape \[2, 2\] needs 4 elements .* got 3"),
        (([1], "i32", [-1]), r"shape\[0\] must be between 0 and 2\*\*64-1"),
        (([1], "i32", [True]), r"shape\[0\] must be an int"),
        (([1], "i32", "1"), "shape must be a list"),
        (([], "i32", [1] * 256), "at most 255"),
        (("abc", "string", []), "data must be a list or a numpy array, got str"),
        (([128], "i8"), r"outside \[-128, 127\]"),
        (([-1], "u32"), r"outside \[0, 4294967295\]"),
        (([1.5], "i32"), "must be an int, got float"),
        (([True], "i64"), "must be an int, got bool"),
        (([1], "boolean"), "must be a bool, got int"),
        ((["1.0"], "f64"), "must be a real number, got str"),
        (([1e39], "f32"), "too large for f32"),
        (([b"x"], "string"), "must be a str, got bytes .*binary"),
        ((["\ud800"], "string"), "cannot be encoded as UTF-8"),
        ((["x"], "binary"), "must be bytes, got str .*encode"),
        (
            ([DecthingsElementAudio("wav", b"")], "image"),
            "must be a DecthingsElementImage, got DecthingsElementAudio",
        ),
        (([b"png"], "video"), "must be a DecthingsElementVideo, got bytes"),
    ],
)
def test_bad_constructor_input(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DecthingsTensor(*args)


@pytest.mark.parametrize(
    ("fmt", "data", "message"),
    [
        ("jpeg", b"", "exactly 3 ASCII characters"),
        ("pn", b"", "exactly 3 ASCII characters"),
        ("pñg", b"", "exactly 3 ASCII characters"),
        (b"png", b"", "format must be a str"),
        ("png", "data", "data must be bytes, got str"),
    ],
)
def test_bad_media_elements(fmt: Any, data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DecthingsElementImage(fmt, data)


def test_media_data_accepts_bytes_like() -> None:
    image = DecthingsElementImage("png", bytearray(b"ab"))  # type: ignore[arg-type]
    audio = DecthingsElementAudio("wav", memoryview(b"cd"))  # type: ignore[arg-type]
    assert image.data == b"ab" and isinstance(image.data, bytes)
    assert audio.data == b"cd" and isinstance(audio.data, bytes)
    # decthings-api 0.0.4 spells them as methods: format(), data().
    assert image.format() == "png" and type(image.format()) is str
    assert image.data() == b"ab" and type(image.data()) is bytes


# --- malformed input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_bytes", "message"),
    [
        ("", "truncated tensor header at offset 0"),
        ("05", "truncated tensor header"),
        ("11 00", "unknown tensor type byte 17"),
        ("00 00", "unknown tensor type byte 0"),
        ("05 01 fe 0000", "truncated i32 tensor header: dimension 0 of 1"),
        ("05 01 02 01000000", r"truncated i32 tensor data .* needs 8 bytes, 4 left"),
        # a hostile header: 2**64-1 x 2**64-1 floats, checked before any allocation
        ("01 02 ffffffffffffffffff ffffffffffffffffff 00", "truncated f32 tensor data"),
        ("0b 01 ffffffffffffffffff 05 0161016201", "element section is only 5 bytes"),
        ("0b 01 02 06 02 6162 0163", "element section is 6 bytes, 5 left"),
        ("0b 01 01 04 02 6162 00", "element section declares 4 bytes, the elements use 3"),
        ("0b 01 01 02 05 61", "element 0 is 5 bytes, the element section has 1 left"),
        ("0b 01 01", "element-section length"),
        ("0b 01 01 01 fe", "element 0 length"),
        ("0b 01 01 02 01 ff", "element 0 is not UTF-8"),
        ("0e 01 01 03 02 706e", "shorter than its 3-byte format"),
        ("0e 01 01 04 03 70ff67", "format is not ASCII"),
        ("0d 01 01 02", "neither 0 nor 1"),
    ],
)
def test_malformed_input_is_a_clear_tensor_format_error(hex_bytes: str, message: str) -> None:
    with pytest.raises(TensorFormatError, match=message):
        DecthingsTensor.deserialize(bytes.fromhex(hex_bytes.replace(" ", "")))


def test_deserialize_many_rejects_an_incomplete_last_tensor() -> None:
    wire = DecthingsTensor([1, 2], "i32").serialize()
    assert DecthingsTensor.deserialize_many(b"") == []
    with pytest.raises(TensorFormatError, match="truncated"):
        DecthingsTensor.deserialize_many(wire + wire[:-1])


def test_deserialize_leaves_trailing_data_and_honours_pos() -> None:
    a, b = DecthingsTensor([1], "u8"), DecthingsTensor(["z"], "string", [])
    wire = a.serialize() + b.serialize()
    first, pos = DecthingsTensor.deserialize(wire)
    second, end = DecthingsTensor.deserialize(wire, pos)
    assert (first, second, end) == (a, b, len(wire))
    assert DecthingsTensor.deserialize(memoryview(wire), pos)[0] == b


def test_error_types() -> None:
    assert issubclass(TensorFormatError, ValueError)
    assert issubclass(VarintError, ValueError)


# --- fuzzing ----------------------------------------------------------------------------------------


def _check_parse(blob: bytes) -> None:
    """Parsing may succeed or raise TensorFormatError/VarintError; whatever parses must re-serialize."""
    try:
        parsed = DecthingsTensor.deserialize_many(blob)
    except (TensorFormatError, VarintError):
        parsed = None
    try:
        single, end = DecthingsTensor.deserialize(blob)
        assert 2 <= end <= len(blob)
    except (TensorFormatError, VarintError):
        single = None
    for t in ([single] if single is not None else []) + (parsed or []):
        wire = t.serialize()
        assert len(wire) == t.serialized_byte_size()
        assert DecthingsTensor.deserialize(wire) == (t, len(wire))
        repr(t)


@FUZZ
@given(st.binary(max_size=64))
def test_fuzz_random_bytes(blob: bytes) -> None:
    _check_parse(blob)


@FUZZ
@given(st.sampled_from(ALL_TYPES).map(lambda t: bytes([ALL_TYPES.index(t) + 1])), st.binary(max_size=48))
def test_fuzz_random_bytes_behind_a_valid_type_byte(type_byte: bytes, rest: bytes) -> None:
    _check_parse(type_byte + rest)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    wire = bytearray(serialize_many(draw(st.lists(tensors(), min_size=1, max_size=3))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "set"]))
        at = draw(st.integers(min_value=0, max_value=max(len(wire) - 1, 0)))
        if op == "flip" and wire:
            wire[at] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif op == "truncate":
            del wire[at:]
        elif op == "insert":
            wire[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete" and wire:
            del wire[at]
        elif op == "set" and wire:
            wire[at] = draw(st.sampled_from([0x00, 0x01, 0xFC, 0xFD, 0xFE, 0xFF]))
    return bytes(wire)


@FUZZ
@given(mutated())
def test_fuzz_mutated_serializations(blob: bytes) -> None:
    _check_parse(blob)


@pytest.mark.parametrize("data_type", ALL_TYPES)
def test_every_truncation_of_a_valid_tensor_is_an_error(data_type: DecthingsTensorType) -> None:
    if data_type in FIXED:
        t = DecthingsTensor(np.ones((2, 2), dtype=FIXED[data_type]), data_type)
    elif data_type == "string":
        t = DecthingsTensor(["ab", "", "héllo", "z"], data_type, [2, 2])
    elif data_type == "binary":
        t = DecthingsTensor([b"ab", b"", b"\x00", b"z"], data_type, [2, 2])
    else:
        t = DecthingsTensor([MEDIA[data_type]("abc", b"xy")] * 4, data_type, [2, 2])
    wire = t.serialize()
    for cut in range(len(wire)):
        with pytest.raises(TensorFormatError):
            DecthingsTensor.deserialize(wire[:cut])


def test_encode_varint_is_reexported() -> None:
    assert encode_varint(300) == b"\xfd\x01\x2c"
