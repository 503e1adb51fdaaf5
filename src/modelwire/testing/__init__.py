"""Testing helpers for code that uses modelwire.

The pytest plugin (`modelwire.testing.pytest_plugin`, registered by the `pytest11` entry point
when modelwire is installed) gives any test suite emulator fixtures with no conftest: see
docs/pytest-plugin.md. The classes behind the fixtures are importable from here too.
"""

from modelwire.testing.pytest_plugin import (
    EMULATOR_EXTRA_HINT,
    LIVE_MARKER,
    Backend,
    CallWindow,
    EmulatorExtraMissingError,
    EmulatorFactory,
    SecretValue,
)

__all__ = [
    "EMULATOR_EXTRA_HINT",
    "LIVE_MARKER",
    "Backend",
    "CallWindow",
    "EmulatorExtraMissingError",
    "EmulatorFactory",
    "SecretValue",
]
