"""The modelwire emulator: local servers that speak each provider's real wire protocol.

It is part of the product: develop and test offline against it with the same clients you use in
production. See `Emulator` and the `modelwire serve` command.
"""

from modelwire.emulator.server import Emulator

__all__ = ["Emulator"]
