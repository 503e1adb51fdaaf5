"""Geo types of the legacy client: `GeoPoint`, `GeoLimit`, `GeoBox` and `Geo`.

An input carries a point (`Geo(geo_point=...)`); a search takes a point with a limit, or a box.
Each type builds the V2 `Geo` message and reads it back, and checks its values up front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai.errors import UserError
from modelwire.clarifai.legacy._wire import from_float32

# Legacy unit names (and the wire names, which the published docstring used and then rejected).
_LIMIT_TYPES = {
    "mile": "withinMiles",
    "kilometer": "withinKilometers",
    "degree": "withinDegrees",
    "radian": "withinRadians",
}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{what} must be a finite number, got {value!r}")
    return float(value)


@dataclass
class GeoPoint:
    """A location: `GeoPoint(longitude, latitude)` in degrees."""

    longitude: float
    latitude: float

    def __post_init__(self) -> None:
        self.longitude = _number(self.longitude, "longitude")
        self.latitude = _number(self.latitude, "latitude")
        if not (-180 <= self.longitude <= 180 and -90 <= self.latitude <= 90):
            raise UserError(
                f"GeoPoint needs -180 <= longitude <= 180 and -90 <= latitude <= 90, "
                f"got ({self.longitude}, {self.latitude})"
            )

    def _proto(self) -> resources_pb2.GeoPoint:
        return resources_pb2.GeoPoint(longitude=self.longitude, latitude=self.latitude)

    def dict(self) -> dict[str, Any]:
        """The point as the API's JSON: `{"geo_point": {"longitude": ..., "latitude": ...}}`."""
        return {"geo_point": {"longitude": self.longitude, "latitude": self.latitude}}


@dataclass
class GeoLimit:
    """A range around a point: `GeoLimit(limit_type="mile", limit_range=10)`, the type one of
    mile, kilometer, degree or radian (2.x's defaults). As in 2.x, `limit_type` then holds the
    API's name for the unit (``withinMiles``, ...), which is also accepted as input."""

    convert_table: ClassVar[dict[str, str]] = dict(_LIMIT_TYPES)

    limit_type: str = "mile"
    limit_range: float = 10

    def __post_init__(self) -> None:
        if self.limit_type not in _LIMIT_TYPES and self.limit_type not in _LIMIT_TYPES.values():
            raise UserError(f"limit_type must be one of {list(_LIMIT_TYPES)}, got {self.limit_type!r}")
        self.limit_type = _LIMIT_TYPES.get(self.limit_type, self.limit_type)
        self.limit_range = _number(self.limit_range, "limit_range")
        if self.limit_range <= 0:
            raise UserError(f"limit_range must be above 0, got {self.limit_range}")

    def _proto(self) -> resources_pb2.GeoLimit:
        return resources_pb2.GeoLimit(type=self.limit_type, value=self.limit_range)

    def dict(self) -> dict[str, Any]:
        """The limit as the API's JSON: `{"geo_limit": {"type": ..., "value": ...}}`."""
        return {"geo_limit": {"type": self.limit_type, "value": self.limit_range}}


@dataclass
class GeoBox:
    """The box spanned by two corner points."""

    point1: GeoPoint
    point2: GeoPoint

    def __post_init__(self) -> None:
        if not (isinstance(self.point1, GeoPoint) and isinstance(self.point2, GeoPoint)):
            raise UserError("GeoBox takes two GeoPoint corners")

    def dict(self) -> dict[str, Any]:
        """The box as the API's JSON: `{"geo_box": [point1, point2]}`."""
        return {"geo_box": [self.point1.dict(), self.point2.dict()]}


@dataclass
class Geo:
    """`Geo(geo_point=...[, geo_limit=...])` or `Geo(geo_box=...)`."""

    geo_point: GeoPoint | None = None
    geo_limit: GeoLimit | None = None
    geo_box: GeoBox | None = None

    def __post_init__(self) -> None:
        if (self.geo_point is None) == (self.geo_box is None):
            raise UserError("Geo needs exactly one of geo_point or geo_box")
        if self.geo_limit is not None and self.geo_point is None:
            raise UserError("geo_limit goes with a geo_point (a geo_box is its own limit)")
        for name, value, kind in (
            ("geo_point", self.geo_point, GeoPoint),
            ("geo_limit", self.geo_limit, GeoLimit),
            ("geo_box", self.geo_box, GeoBox),
        ):
            if value is not None and not isinstance(value, kind):
                raise UserError(f"{name} must be a {kind.__name__}, got {type(value).__name__}")

    def _proto(self) -> resources_pb2.Geo:
        geo = resources_pb2.Geo()
        if self.geo_point is not None:
            geo.geo_point.CopyFrom(self.geo_point._proto())
        if self.geo_limit is not None:
            geo.geo_limit.CopyFrom(self.geo_limit._proto())
        if self.geo_box is not None:
            for corner in (self.geo_box.point1, self.geo_box.point2):
                geo.geo_box.add().geo_point.CopyFrom(corner._proto())
        return geo

    @classmethod
    def _from_proto(cls, geo: resources_pb2.Geo) -> Geo | None:
        """The Geo of an input (None when it has no point)."""
        if not geo.HasField("geo_point"):
            return None
        point = geo.geo_point
        return cls(geo_point=GeoPoint(from_float32(point.longitude), from_float32(point.latitude)))

    def dict(self) -> dict[str, Any]:
        """The query part as the API's JSON: the point and limit, or the box."""
        body: dict[str, Any] = {}
        for part in (self.geo_point, self.geo_limit, self.geo_box):
            if part is not None:
                body.update(part.dict())
        return {"geo": body}
