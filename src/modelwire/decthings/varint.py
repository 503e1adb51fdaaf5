"""The Decthings varint: a CompactSize-like, big-endian length encoding (not LEB128).

    value < 253      -> 1 byte, the value itself
    value < 2**16    -> 0xFD + u16 big-endian
    value < 2**32    -> 0xFE + u32 big-endian
    value < 2**64    -> 0xFF + u64 big-endian

The published Python client (decthings-api 0.0.4) compared with `<=` and so raised OverflowError
for exactly 65536 and 2**32; this module uses strict bounds, like the JS client.

The decoder is lenient about non-minimal encodings (for example 0xFD 0x0001), as the published
clients are; it only insists that the bytes are there.
"""

from __future__ import annotations

from modelwire._core.errors import ModelwireError

__all__ = ["MAX_VARINT", "VarintError", "decode_varint", "encode_varint", "varint_size"]

MAX_VARINT = 2**64 - 1

# Marker byte -> number of big-endian payload bytes that follow it.
_WIDTH_OF_MARKER = {0xFD: 2, 0xFE: 4, 0xFF: 8}


class VarintError(ModelwireError, ValueError):
    """A varint could not be encoded (negative, beyond 64 bits) or decoded (the buffer ends inside it)."""


def _check_range(n: int) -> None:
    # bool is an int subclass; a length of True is always a caller bug.
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"varint value must be an int, got {type(n).__name__}")
    if n < 0:
        raise VarintError(f"varint value must be non-negative, got {n}")
    if n > MAX_VARINT:
        raise VarintError(f"varint value {n} does not fit in 64 bits (max {MAX_VARINT})")


def varint_size(n: int) -> int:
    """Number of bytes `encode_varint(n)` produces."""
    _check_range(n)
    if n < 253:
        return 1
    if n < 2**16:
        return 3
    if n < 2**32:
        return 5
    return 9


def encode_varint(n: int) -> bytes:
    """Encode a non-negative integer below 2**64; VarintError (a ValueError) outside that range."""
    _check_range(n)
    if n < 253:
        return bytes((n,))
    if n < 2**16:
        return b"\xfd" + n.to_bytes(2, "big")
    if n < 2**32:
        return b"\xfe" + n.to_bytes(4, "big")
    return b"\xff" + n.to_bytes(8, "big")


def decode_varint(buf: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int]:
    """Decode the varint at `buf[pos:]`; returns `(value, position after it)`.

    Raises VarintError when the buffer ends before the varint does."""
    if pos < 0:
        raise VarintError(f"pos must be non-negative, got {pos}")
    end = len(buf)
    if pos >= end:
        raise VarintError(f"truncated varint: no bytes left at offset {pos} (buffer is {end} bytes)")
    first = buf[pos]
    width = _WIDTH_OF_MARKER.get(first)
    if width is None:
        return first, pos + 1
    start = pos + 1
    if start + width > end:
        raise VarintError(
            f"truncated varint at offset {pos}: marker 0x{first:02X} needs {width} more bytes, "
            f"only {end - start} left"
        )
    return int.from_bytes(buf[start : start + width], "big"), start + width
