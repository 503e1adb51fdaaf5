"""Decthings: the tensor wire format and varint of the decthings-api 0.0.4 protocol.

from modelwire.decthings import DecthingsTensor, DecthingsElementImage

text = DecthingsTensor(["My input text"], "string", [])
image = DecthingsTensor([DecthingsElementImage("png", png_bytes)], "image", [])
blob = text.serialize() + image.serialize()
assert DecthingsTensor.deserialize_many(blob) == [text, image]
"""

from modelwire.decthings.tensor import (
    DecthingsElement,
    DecthingsElementAudio,
    DecthingsElementImage,
    DecthingsElementVideo,
    DecthingsTensor,
    DecthingsTensorType,
    TensorFormatError,
    serialize_many,
)
from modelwire.decthings.varint import MAX_VARINT, VarintError, decode_varint, encode_varint, varint_size

__all__ = [
    "MAX_VARINT",
    "DecthingsElement",
    "DecthingsElementAudio",
    "DecthingsElementImage",
    "DecthingsElementVideo",
    "DecthingsTensor",
    "DecthingsTensorType",
    "TensorFormatError",
    "VarintError",
    "decode_varint",
    "encode_varint",
    "serialize_many",
    "varint_size",
]
