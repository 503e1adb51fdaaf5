"""modelwire: one typed SDK for the Clavata, Clarifai and Decthings APIs, with an offline emulator."""

from modelwire._core.errors import ApiError, ConfigurationError, ModelwireError, UsageError
from modelwire._version import __version__

__all__ = ["ApiError", "ConfigurationError", "ModelwireError", "UsageError", "__version__"]
