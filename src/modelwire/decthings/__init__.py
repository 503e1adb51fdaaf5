"""Decthings: async and sync clients over the real HTTP/WebSocket protocol, and DecthingsTensor.

    from modelwire.decthings import DecthingsClient, DecthingsTensor

    client = DecthingsClient(api_key="...")
    result = await client.model.evaluate({
        "modelId": "<modelid>",
        "params": [{"name": "input", "data": [DecthingsTensor(["My input text"], "string", [])]}],
    })
    outputs = result["success"]["output"]          # [{"name": ..., "data": [DecthingsTensor, ...]}]

`DecthingsClientSync` has the same namespaces and methods, blocking. Params and results are the
dicts of the Decthings docs, typed by the TypedDicts in `modelwire.decthings.types`; API errors
raise (see `modelwire.decthings.errors` for the mapping from the published client's tuples).
"""

from typing import TYPE_CHECKING, Any

from modelwire.decthings.errors import (
    BadCredentialsError,
    DecthingsApiError,
    DecthingsHttpError,
    DecthingsNotFoundError,
    IncorrectVersionIdError,
    InvalidParameterError,
    ServerOverloadedError,
    TooManyRequestsError,
)
from modelwire.decthings.tensor import (
    DecthingsElement,
    DecthingsElementAudio,
    DecthingsElementImage,
    DecthingsElementVideo,
    DecthingsTensor,
    DecthingsTensorError,
    DecthingsTensorType,
    TensorFormatError,
    serialize_many,
)
from modelwire.decthings.varint import MAX_VARINT, VarintError, decode_varint, encode_varint, varint_size

if TYPE_CHECKING:
    from modelwire.decthings._engine import ClientClosedError, DecthingsEvent
    from modelwire.decthings.client import DecthingsClient, DecthingsClientSync

# The clients load aiohttp and the generated surface; tensor-only users do not pay for that.
_LAZY = {
    "ClientClosedError": "modelwire.decthings._engine",
    "DecthingsEvent": "modelwire.decthings._engine",
    "DecthingsClient": "modelwire.decthings.client",
    "DecthingsClientSync": "modelwire.decthings.client",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'modelwire.decthings' has no attribute {name!r}")


__all__ = [
    "MAX_VARINT",
    "BadCredentialsError",
    "ClientClosedError",
    "DecthingsApiError",
    "DecthingsClient",
    "DecthingsClientSync",
    "DecthingsElement",
    "DecthingsElementAudio",
    "DecthingsElementImage",
    "DecthingsElementVideo",
    "DecthingsEvent",
    "DecthingsHttpError",
    "DecthingsNotFoundError",
    "DecthingsTensor",
    "DecthingsTensorError",
    "DecthingsTensorType",
    "IncorrectVersionIdError",
    "InvalidParameterError",
    "ServerOverloadedError",
    "TensorFormatError",
    "TooManyRequestsError",
    "VarintError",
    "decode_varint",
    "encode_varint",
    "serialize_many",
    "varint_size",
]
