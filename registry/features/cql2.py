"""CQL2 filters (OGC 21-065, text and JSON encodings) compiled to a parameterised SQL condition.

Both encodings become the JSON form first (`cql2_text` reads the text one), and one compiler turns
that into SQL. Property names are looked up among the collection's queryables and replaced by the
SQL the collection defines for them; every value travels as a bound parameter, so nothing a caller
writes is ever spliced into the statement. Types are checked before the database sees the filter,
so a mismatch is a plain 400 ("status is text: compare it with a quoted value"), not a cast error.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from registry.features.collections import BOOLEAN
from registry.features.collections import DATE
from registry.features.collections import DATETIME
from registry.features.collections import INTEGER
from registry.features.collections import NUMBER
from registry.features.collections import STRING
from registry.features.collections import Collection
from registry.features.cql2_text import MAX_FILTER_LENGTH
from registry.features.cql2_text import parse_cql2_text
from registry.features.crs import Crs
from registry.features.crs import to_storage
from registry.features.filter_errors import FilterError

CQL2_TEXT, CQL2_JSON = "cql2-text", "cql2-json"
FILTER_LANGUAGES = (CQL2_TEXT, CQL2_JSON)
GEOMETRY_PROPERTIES = ("geometry", "geom")
MAX_POSITIONS = 10_000
MAX_DEPTH = 50
MAX_LIST = 1_000
_COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_KINDS = {
    STRING: "text",
    INTEGER: "a number",
    NUMBER: "a number",
    DATE: "a date",
    DATETIME: "a timestamp",
    BOOLEAN: "true or false",
}
_EXAMPLES = {
    STRING: "a quoted value such as 'in_use'",
    INTEGER: "a number such as 7",
    NUMBER: "a number such as 1500",
    DATE: "a date such as DATE('2024-07-01')",
    DATETIME: "a timestamp such as TIMESTAMP('2024-07-01T00:00:00Z')",
    BOOLEAN: "TRUE or FALSE",
}
_GEOJSON_DEPTH = {
    "Point": 0,
    "LineString": 1,
    "MultiPoint": 1,
    "Polygon": 2,
    "MultiLineString": 2,
    "MultiPolygon": 3,
}


@dataclass
class CompiledFilter:
    """`sql` is a condition over the collection's rows; `params` its bound values."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Operand:
    sql: str
    type: str  # one of the collection property types, or "geometry"
    label: str  # how a message names it: "status", "'abc'"
    is_property: bool


class _Compiler:
    def __init__(self, collection: Collection, public: bool, crs: Crs, prefix: str) -> None:
        self.collection, self.public, self.crs, self.prefix = collection, public, crs, prefix
        self.params: dict[str, Any] = {}
        self.positions = 0

    def bind(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    # -- boolean structure ----------------------------------------------------------------
    def condition(self, node: Any, depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            raise FilterError(f"the filter nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, bool):
            return "true" if node else "false"
        if not isinstance(node, dict) or "op" not in node:
            raise FilterError(
                f"expected a condition ({{'op': ..., 'args': [...]}}), found {_shown(node)}"
            )
        op = str(node["op"]).lower() if isinstance(node["op"], str) else ""
        args = node.get("args")
        if not isinstance(args, list):
            raise FilterError(f"{node['op']!r} needs its arguments as a list in 'args'")
        if op in {"and", "or"}:
            if len(args) < 2:
                raise FilterError(f"{op.upper()} needs at least two conditions")
            parts = [self.condition(arg, depth + 1) for arg in args]
            return "(" + f" {op.upper()} ".join(parts) + ")"
        if op == "not":
            self._count(op, args, 1)
            return f"(NOT {self.condition(args[0], depth + 1)})"
        if op in _COMPARISONS:
            self._count(op, args, 2)
            left, right = self.operand(args[0]), self.operand(args[1])
            self._compatible(left, right, op)
            right_sql = self._typed(right, left)
            left_sql = self._typed(left, right)
            return f"({left_sql} {_COMPARISONS[op]} {right_sql})"
        if op == "like":
            self._count("LIKE", args, 2)
            left, pattern = self.operand(args[0]), self.operand(args[1])
            for operand in (left, pattern):
                if operand.type != STRING:
                    raise FilterError(f"LIKE compares text; {operand.label} is {_kind(operand)}")
            return f"({left.sql} LIKE {pattern.sql})"
        if op == "between":
            self._count("BETWEEN", args, 3)
            value, low, high = (self.operand(arg) for arg in args)
            for bound in (low, high):
                self._compatible(value, bound, "BETWEEN")
            if value.type not in {INTEGER, NUMBER, DATE, DATETIME}:
                raise FilterError(f"BETWEEN needs a number or a date; {value.label} is text")
            return f"({value.sql} BETWEEN {self._typed(low, value)} AND {self._typed(high, value)})"
        if op == "in":
            self._count("IN", args, 2)
            value = self.operand(args[0])
            if not isinstance(args[1], list) or not args[1]:
                raise FilterError("IN needs a non-empty list of values")
            if len(args[1]) > MAX_LIST:
                raise FilterError(f"IN takes at most {MAX_LIST:,} values")
            items = [self.operand(item) for item in args[1]]
            for item in items:
                self._compatible(value, item, "IN")
            return f"({value.sql} IN ({', '.join(self._typed(i, value) for i in items)}))"
        if op == "isnull":
            self._count("IS NULL", args, 1)
            return f"({self.operand(args[0]).sql} IS NULL)"
        if op in {"s_intersects", "intersects"}:
            self._count("S_INTERSECTS", args, 2)
            first, second = (self.geometry_operand(arg) for arg in args)
            if first.is_property == second.is_property:
                raise FilterError(
                    "S_INTERSECTS compares the feature's geometry with one geometry you give"
                )
            column, shape = (first, second) if first.is_property else (second, first)
            return f"({column.sql} && {shape.sql} AND ST_Intersects({column.sql}, {shape.sql}))"
        raise FilterError(
            f"unknown operator {str(node['op'])[:40]!r}; this API knows =, <>, <, <=, >, >=, "
            "AND, OR, NOT, LIKE, BETWEEN, IN, IS NULL and S_INTERSECTS"
        )

    @staticmethod
    def _count(op: str, args: list[Any], wanted: int) -> None:
        if len(args) != wanted:
            raise FilterError(f"{op.upper()} takes {wanted} argument(s), found {len(args)}")

    # -- values -----------------------------------------------------------------------------
    def operand(self, node: Any) -> _Operand:
        if isinstance(node, dict) and "property" in node:
            name = node["property"]
            if not isinstance(name, str):
                raise FilterError("a property name must be text")
            if name in GEOMETRY_PROPERTIES:
                raise FilterError(f"{name} is the geometry: compare it with S_INTERSECTS")
            prop = self.collection.property(name, self.public)
            if prop is None:
                raise FilterError(
                    f"{name[:60]!r} is not a queryable property of {self.collection.id}; "
                    "see its queryables for the names"
                )
            return _Operand(prop.sql, prop.type, name, True)
        if isinstance(node, bool):
            return _Operand(self.bind(node), BOOLEAN, str(node).upper(), False)
        if isinstance(node, (int, float, Decimal)):
            try:
                number = Decimal(str(node))
            except InvalidOperation as error:
                raise FilterError(f"{node!r} is not a number") from error
            if not number.is_finite():
                raise FilterError(f"{node!r} is not a finite number")
            return _Operand(self.bind(number), NUMBER, str(node), False)
        if isinstance(node, str):
            if "\x00" in node:
                raise FilterError("a value must not contain NUL characters")
            return _Operand(self.bind(node), STRING, repr(node[:40]), False)
        if isinstance(node, dict) and ("date" in node or "timestamp" in node):
            return self._temporal(node)
        raise FilterError(f"expected a property or a value, found {_shown(node)}")

    def _temporal(self, node: dict[str, Any]) -> _Operand:
        kind = "date" if "date" in node else "timestamp"
        value = node[kind]
        try:
            if kind == "date":
                parsed: dt.date = dt.date.fromisoformat(str(value))
                return _Operand(self.bind(parsed), DATE, f"DATE('{value}')", False)
            stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=dt.UTC)
            return _Operand(self.bind(stamp), DATETIME, f"TIMESTAMP('{value}')", False)
        except ValueError as error:
            example = "2024-07-01" if kind == "date" else "2024-07-01T12:00:00Z"
            raise FilterError(f"{str(value)[:40]!r} is not a {kind} such as {example}") from error

    def _compatible(self, left: _Operand, right: _Operand, op: str) -> None:
        groups = ({INTEGER, NUMBER}, {DATE, DATETIME})
        if left.type == right.type or any({left.type, right.type} <= g for g in groups):
            return
        if (
            left.type in {DATE, DATETIME}
            and right.type == STRING
            and not right.is_property
            and self._date_string(right)
        ):
            return
        swap = right.is_property and not left.is_property
        subject, other = (right, left) if swap else (left, right)
        raise FilterError(
            f"{subject.label} is {_kind(subject)}: compare it with {_EXAMPLES[subject.type]}, "
            f"not {other.label} ({op})"
        )

    def _date_string(self, operand: _Operand) -> bool:
        """A quoted date ('2024-07-01') compared with a date: accepted, as QGIS writes them."""
        name = operand.sql.lstrip(":")
        value = self.params.get(name)
        try:
            self.params[name] = dt.date.fromisoformat(str(value))
            return True
        except ValueError:
            try:
                stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                return False
            self.params[name] = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
            return True

    @staticmethod
    def _typed(operand: _Operand, other: _Operand) -> str:
        """A bound value cast to its comparand's SQL type, so PostgreSQL never guesses."""
        if operand.is_property:
            return operand.sql
        cast = {
            STRING: "text",
            INTEGER: "numeric",
            NUMBER: "numeric",
            DATE: "date",
            DATETIME: "timestamptz",
            BOOLEAN: "boolean",
        }[other.type if other.is_property else operand.type]
        if other.type == DATE and operand.type == DATETIME:
            cast = "timestamptz"
        return f"CAST({operand.sql} AS {cast})"

    # -- geometry ---------------------------------------------------------------------------
    def geometry_operand(self, node: Any) -> _Operand:
        if isinstance(node, dict) and "property" in node:
            if node["property"] not in GEOMETRY_PROPERTIES:
                raise FilterError(
                    f"S_INTERSECTS needs the geometry property 'geometry', "
                    f"not {str(node['property'])[:60]!r}"
                )
            return _Operand(self.collection.geometry, "geometry", "geometry", True)
        srid = self.crs.srid
        if isinstance(node, dict) and "bbox" in node:
            box = node["bbox"]
            if not isinstance(box, list) or len(box) not in (4, 6):
                raise FilterError("a bbox is a list of 4 (or 6) numbers")
            numbers = [self._coordinate(value) for value in box]
            west, south, east, north = numbers if len(numbers) == 4 else numbers[:2] + numbers[3:5]
            envelope = (
                f"ST_MakeEnvelope({self.bind(west)}, {self.bind(south)}, "
                f"{self.bind(east)}, {self.bind(north)}, {srid})"
            )
            return _Operand(to_storage(envelope, self.crs), "geometry", "bbox", False)
        if isinstance(node, dict) and "type" in node:
            kind = node.get("type")
            if kind not in _GEOJSON_DEPTH:
                raise FilterError(
                    f"geometry type {str(kind)[:40]!r} is not supported; use "
                    + ", ".join(_GEOJSON_DEPTH)
                )
            coordinates = self._positions(node.get("coordinates"), _GEOJSON_DEPTH[str(kind)])
            if kind == "Polygon":
                self._rings(coordinates)
            elif kind == "MultiPolygon":
                for polygon in coordinates:
                    self._rings(polygon)
            geojson = json.dumps({"type": kind, "coordinates": coordinates})
            shape = f"ST_SetSRID(ST_GeomFromGeoJSON({self.bind(geojson)}), {srid})"
            return _Operand(to_storage(shape, self.crs), "geometry", str(kind), False)
        raise FilterError(
            f"expected a geometry (WKT, GeoJSON or BBOX) or the property 'geometry', "
            f"found {_shown(node)}"
        )

    def _coordinate(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise FilterError(f"a coordinate must be a number, found {_shown(value)}")
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise FilterError("a coordinate must be a finite number")
        return number

    def _positions(self, value: Any, depth: int) -> Any:
        if not isinstance(value, list):
            raise FilterError("a geometry's coordinates must be nested lists of numbers")
        if depth == 0:
            if len(value) not in (2, 3):
                raise FilterError("a position has 2 or 3 numbers")
            self.positions += 1
            if self.positions > MAX_POSITIONS:
                raise FilterError(f"a filter's geometries hold at most {MAX_POSITIONS:,} points")
            return [self._coordinate(number) for number in value]
        if not value:
            raise FilterError("a geometry's coordinates must not be empty")
        return [self._positions(item, depth - 1) for item in value]

    @staticmethod
    def _rings(polygon: list[list[list[float]]]) -> None:
        for ring in polygon:
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise FilterError(
                    "a polygon's ring needs 4 or more positions and must end where it starts"
                )


def _kind(operand: _Operand) -> str:
    return _KINDS.get(operand.type, operand.type)


def _shown(node: Any) -> str:
    return repr(json.dumps(node, default=str)[:60])


def parse_filter(text: str, language: str) -> Any:
    """The filter's JSON form, from CQL2 text or CQL2 JSON."""
    if language == CQL2_TEXT:
        return parse_cql2_text(text)
    if language != CQL2_JSON:
        raise FilterError(f"filter-lang must be {' or '.join(FILTER_LANGUAGES)}")
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_FILTER_LENGTH:,} characters")
    try:
        return json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as error:
        position = getattr(error, "pos", None)
        raise FilterError(
            "the filter is not valid JSON", position + 1 if position is not None else None
        ) from error


def compile_filter(
    node: Any, collection: Collection, public: bool, crs: Crs, prefix: str = "f"
) -> CompiledFilter:
    """`node` (CQL2 JSON) as SQL over `collection` as `public` or staff see it; geometries in
    the filter are read in `crs` (`filter-crs`)."""
    compiler = _Compiler(collection, public, crs, prefix)
    return CompiledFilter(compiler.condition(node), compiler.params)
