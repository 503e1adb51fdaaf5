"""The modelwire emulator: local servers that speak each provider's real wire protocol.

It is part of the product: develop and test offline against it with the same clients you use in
production. See `Emulator` and the `modelwire serve` command.
"""

from modelwire._core.errors import needs_extra

with needs_extra("emulator", "modelwire.emulator", ("PIL", "yaml", "numpy")):
    from modelwire.emulator.server import Emulator

__all__ = ["Emulator"]
