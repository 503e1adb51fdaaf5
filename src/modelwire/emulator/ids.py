"""Random ids for what the emulator creates (jobs, results, outputs, annotations, request ids).

They have uuid4's form, but come from a PRNG seeded once from the OS, not from `uuid.uuid4()`:
that reads os.urandom per id, a system call that also releases the GIL, and under load each
release hands the GIL to another server thread; one id per streamed result or prediction made
that a large share of a busy emulator's time. Ids must be unique, not secret (keys and tokens
still come from `secrets`), and a forked child reseeds so it never repeats its parent's ids.
"""

from __future__ import annotations

import os
import random

__all__ = ["uuid4_hex", "uuid4_str"]

_random = random.Random()  # seeded from os.urandom
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_random.seed)

# uuid4's fixed bits: version 4 in bits 76-79, the RFC 4122 variant (0b10) in bits 62-63.
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_SET = (0x4000 << 64) | (0x8000 << 48)


def uuid4_hex() -> str:
    """32 lowercase hex digits, as `uuid.uuid4().hex`."""
    return f"{_random.getrandbits(128) & _CLEAR | _SET:032x}"


def uuid4_str() -> str:
    """The 8-4-4-4-12 form, as `str(uuid.uuid4())`."""
    h = uuid4_hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
