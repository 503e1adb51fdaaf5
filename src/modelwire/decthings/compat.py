"""decthings-api 0.0.4's package root, `decthings_api`: what `from decthings_api import ...` gives.

    from modelwire.decthings.compat import DecthingsClient   # was: from decthings_api import ...

`modelwire.decthings` itself cannot be that rewrite: its `DecthingsClient` is the raising client,
and `res, err = await client.model.get_models({})` on a result dict would unpack its keys. The
clients here are the tuple-returning ones of `modelwire.decthings.client` / `.client_sync`.
"""

from modelwire.decthings.client import DecthingsClient
from modelwire.decthings.client_sync import DecthingsClientSync
from modelwire.decthings.event import DecthingsEvent, RpcEvent, SubscriptionsRemovedEvent
from modelwire.decthings.tensor import (
    DecthingsElementAudio,
    DecthingsElementImage,
    DecthingsElementVideo,
    DecthingsTensor,
)

__all__ = [
    "DecthingsClient",
    "DecthingsClientSync",
    "DecthingsElementAudio",
    "DecthingsElementImage",
    "DecthingsElementVideo",
    "DecthingsEvent",
    "DecthingsTensor",
    "RpcEvent",
    "SubscriptionsRemovedEvent",
]
