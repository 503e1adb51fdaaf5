"""Clavata refusals: content the service would not evaluate, and why.

A refusal arrives as FAILED_PRECONDITION (or CANCELLED) with `clavata.gateway.v1.PrecheckFailure`
details in the `google.rpc.Status` trailer. It is raised as `EvaluationRefusedError`, which is also
the core `ApiError` for that code, so generic handlers keep working. Errors without
PrecheckFailure details are never turned into refusals.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from typing import Any

import grpc

from modelwire._core.errors import ApiError, ModelwireError, RpcCode, register_detail_type, register_hints
from modelwire._gen.clavata.gateway.v1 import errs_pb2

register_detail_type(errs_pb2.PrecheckFailure)
# The hints of Clavata's errors name its own settings (ClavataClient's arguments and variables).
register_hints(
    lambda method: method.startswith("/clavata."),
    {
        RpcCode.UNAVAILABLE: "the service could not be reached; check host, port and TLS (secure=; "
        "CLAVATA_HOST, CLAVATA_PORT, or CLAVATA_EMULATOR_HOST for the emulator)",
        RpcCode.UNAUTHENTICATED: "check the API key the client was given (auth_token= or CLAVATA_API_KEY)",
    },
)


class ClavataError(ModelwireError):
    """Base of Clavata-specific errors."""


class RefusalReason(enum.IntEnum):
    """Why content was refused; numerically equal to the wire's PrecheckFailureType."""

    UNKNOWN = 0
    CSAM = 1
    UNSUPPORTED_FORMAT = 2
    INVALID_CONTENT = 3

    @classmethod
    def _missing_(cls, value: object) -> Any:
        # A reason added to the service later must not turn a refusal into a crash.
        if isinstance(value, int):
            member = int.__new__(cls, value)
            member._name_ = f"UNRECOGNIZED_{value}"
            member._value_ = value
            return member
        return None

    def __str__(self) -> str:
        return self.name


# Lower rank = more important. Unknown or unrecognized reasons rank last.
_PRIORITY = {RefusalReason.CSAM: 0, RefusalReason.UNSUPPORTED_FORMAT: 1, RefusalReason.INVALID_CONTENT: 2}


@dataclass(frozen=True)
class RefusedContent:
    """One refused piece of content."""

    reason: RefusalReason
    content_hash: str
    message: str = ""


class EvaluationRefusedError(ClavataError, ApiError):
    """The service refused to evaluate some content. `refusals` lists each refused piece."""

    def __init__(self, base: ApiError, refusals: list[RefusedContent]) -> None:
        self.refusals = refusals
        ApiError.__init__(
            self,
            base.message,
            code=base.code,
            method=base.method,
            details=base.details,
            request_id=base.request_id,
            trailing_metadata=base.trailing_metadata,
            hint=self._summary(refusals),
        )

    @staticmethod
    def _summary(refusals: list[RefusedContent]) -> str:
        shown = "; ".join(
            f"{r.reason.name} {r.content_hash}" + (f" ({r.message})" if r.message else "")
            for r in refusals[:5]
        )
        more = f"; and {len(refusals) - 5} more" if len(refusals) > 5 else ""
        return f"refused {len(refusals)} piece(s) of content: {shown}{more}"

    @property
    def top_reason(self) -> RefusalReason:
        """The most important reason: CSAM > UNSUPPORTED_FORMAT > INVALID_CONTENT."""
        ranked = sorted((r.reason for r in self.refusals), key=lambda r: _PRIORITY.get(r, len(_PRIORITY)))
        return ranked[0] if ranked else RefusalReason.UNKNOWN

    @property
    def most_common_reason(self) -> RefusalReason:
        """The most frequent reason (ties go to the one seen first)."""
        counts = Counter(r.reason for r in self.refusals)
        return counts.most_common(1)[0][0] if counts else RefusalReason.UNKNOWN

    @property
    def first_reason(self) -> RefusalReason:
        """The reason of the first refused item (UNKNOWN when none is given)."""
        return self.refusals[0].reason if self.refusals else RefusalReason.UNKNOWN

    @property
    def refused_content_hashes(self) -> list[str]:
        """Each refused content hash once, in the order first refused."""
        return list(dict.fromkeys(r.content_hash for r in self.refusals))

    @property
    def original_error(self) -> BaseException | None:
        """What the gRPC error this was hydrated from said, redacted (an `RpcErrorSummary`)."""
        return self.__cause__


_REFUSAL_CODES = {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.CANCELLED}


def refusal_from(error: ApiError) -> EvaluationRefusedError | None:
    """Specializer for the core error mapping: PrecheckFailure details -> EvaluationRefusedError."""
    if error.code not in _REFUSAL_CODES:
        return None
    refusals = [
        RefusedContent(RefusalReason(d.type), d.details.string_value, d.message)
        for d in error.details
        if isinstance(d, errs_pb2.PrecheckFailure)
    ]
    return EvaluationRefusedError(error, refusals) if refusals else None
