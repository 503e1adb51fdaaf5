"""The distribution version, read once from the installed metadata.

`importlib.metadata` costs more to import than the rest of `import modelwire` put together, so
the common case (a `modelwire-<version>.dist-info` directory on sys.path: a wheel or an editable
install) is read directly; anything else (an egg-info, a zip) falls back to importlib.metadata.
"""

import os
import sys


def _from_dist_info() -> str | None:
    """The Version: of the first modelwire metadata on sys.path (None to ask importlib.metadata)."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip, a missing directory
            continue
        for name in names:
            lowered = name.lower()
            if not lowered.startswith(("modelwire-", "modelwire.")):
                continue
            if lowered.endswith(".egg-info"):
                return None  # importlib.metadata would read this one: let it
            if not lowered.endswith(".dist-info"):
                continue
            try:
                with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as meta:
                    for line in meta:
                        if line.startswith("Version:"):
                            return line.partition(":")[2].strip()
                        if not line.strip():  # end of the headers
                            break
            except OSError:
                pass
            return None
    return None


def _version() -> str:
    found = _from_dist_info()
    if found:
        return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("modelwire")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


__version__ = _version()
