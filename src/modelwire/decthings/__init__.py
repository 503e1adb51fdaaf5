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

These raising clients are the recommended API. decthings-api 0.0.4's own shape, where every method
returns `(result, error)`, lives at its module paths for code that should run unchanged:
`modelwire.decthings.client` (DecthingsClient), `.client_sync` (DecthingsClientSync), `.tensor`,
`.event`, and `.compat` for what the `decthings_api` package root exports. Both shapes run on one
engine.
"""

from typing import TYPE_CHECKING, Any

from modelwire.decthings._codecs import DecthingsUsageError
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
    from modelwire.decthings._clients import DecthingsClient, DecthingsClientSync
    from modelwire.decthings._engine import ClientClosedError, DecthingsEvent

# The clients load aiohttp and the generated surface; tensor-only users do not pay for that.
_LAZY = {
    "ClientClosedError": "modelwire.decthings._engine",
    "DecthingsEvent": "modelwire.decthings._engine",
    "DecthingsClient": "modelwire.decthings._clients",
    "DecthingsClientSync": "modelwire.decthings._clients",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'modelwire.decthings' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "DecthingsUsageError",
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
