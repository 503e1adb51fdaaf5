"""The Decthings varint: CompactSize-like and big-endian, without the 0.0.4 off-by-one at 2**16 / 2**32."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelwire.decthings import MAX_VARINT, VarintError, decode_varint, encode_varint, varint_size

BOUNDARIES = [
    (0, "00"),
    (1, "01"),
    (252, "fc"),
    (253, "fd00fd"),
    (300, "fd012c"),
    (65535, "fdffff"),
    # 65536 and 2**32 raised OverflowError in the published client (`<=` instead of `<`).
    (65536, "fe00010000"),
    (2**32 - 1, "feffffffff"),
    (2**32, "ff0000000100000000"),
    (2**64 - 1, "ffffffffffffffffff"),
]


@pytest.mark.parametrize(("value", "hex_bytes"), BOUNDARIES)
def test_boundaries_encode_decode(value: int, hex_bytes: str) -> None:
    encoded = encode_varint(value)
    assert encoded.hex() == hex_bytes
    assert varint_size(value) == len(encoded)
    assert decode_varint(encoded, 0) == (value, len(encoded))


@pytest.mark.parametrize(("value", "hex_bytes"), BOUNDARIES)
def test_decode_at_offset_ignores_surrounding_bytes(value: int, hex_bytes: str) -> None:
    buf = b"\xaa\xbb" + bytes.fromhex(hex_bytes) + b"\xcc"
    assert decode_varint(buf, 2) == (value, 2 + len(hex_bytes) // 2)
    assert decode_varint(memoryview(buf), 2) == (value, 2 + len(hex_bytes) // 2)


@pytest.mark.parametrize("value", [-1, -(2**70), 2**64, 2**80])
def test_out_of_range_is_a_clear_value_error(value: int) -> None:
    with pytest.raises(ValueError, match=r"non-negative|64 bits"):
        encode_varint(value)
    with pytest.raises(ValueError, match=r"non-negative|64 bits"):
        varint_size(value)


def test_non_int_is_rejected() -> None:
    with pytest.raises(TypeError, match="int"):
        encode_varint(True)
    with pytest.raises(TypeError, match="int"):
        encode_varint(1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "hex_bytes"), BOUNDARIES)
def test_every_truncation_is_a_varint_error(value: int, hex_bytes: str) -> None:
    encoded = bytes.fromhex(hex_bytes)
    for cut in range(len(encoded)):
        with pytest.raises(VarintError, match="truncated varint"):
            decode_varint(encoded[:cut], 0)


def test_varint_error_is_a_value_error_with_detail() -> None:
    assert issubclass(VarintError, ValueError)
    with pytest.raises(VarintError, match=r"marker 0xFE needs 4 more bytes, only 2 left"):
        decode_varint(b"\xfe\x00\x01", 0)
    with pytest.raises(VarintError, match="no bytes left at offset 5"):
        decode_varint(b"\x01", 5)
    with pytest.raises(ValueError, match="pos"):
        decode_varint(b"\x01", -1)


def test_non_minimal_encodings_are_accepted() -> None:
    # Like the published decoders: only presence of the bytes is checked.
    assert decode_varint(b"\xfd\x00\x01", 0) == (1, 3)
    assert decode_varint(b"\xff" + (5).to_bytes(8, "big"), 0) == (5, 9)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_VARINT), st.binary(max_size=4))
def test_round_trip(value: int, tail: bytes) -> None:
    encoded = encode_varint(value)
    assert len(encoded) == varint_size(value)
    assert decode_varint(encoded + tail, 0) == (value, len(encoded))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12), st.integers(min_value=0, max_value=14))
def test_decode_arbitrary_bytes_returns_or_raises_varint_error(buf: bytes, pos: int) -> None:
    try:
        value, end = decode_varint(buf, pos)
    except VarintError:
        return
    assert 0 <= value <= MAX_VARINT
    assert pos < end <= len(buf)
