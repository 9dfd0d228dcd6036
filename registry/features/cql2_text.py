"""CQL2 text (OGC 21-065) read into its JSON encoding, so one compiler serves both.

The subset: comparisons (=, <>, <, <=, >, >=), AND, OR, NOT, parentheses, [NOT] LIKE,
[NOT] BETWEEN, [NOT] IN, IS [NOT] NULL, S_INTERSECTS with a WKT geometry or BBOX(...), literals
(quoted strings, numbers, TRUE/FALSE, DATE('...'), TIMESTAMP('...')), property names bare or in
double quotes. Every error names the character position and what was expected there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from registry.features.filter_errors import FilterError

MAX_FILTER_LENGTH = 100_000
_COMPARISONS = ("<>", "<=", ">=", "=", "<", ">")
_SPATIAL = {"S_INTERSECTS": "s_intersects", "INTERSECTS": "s_intersects"}
_WKT = {
    "POINT": "Point",
    "LINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOINT": "MultiPoint",
    "MULTILINESTRING": "MultiLineString",
    "MULTIPOLYGON": "MultiPolygon",
}
# depth of the coordinate nesting of each WKT type's body
_WKT_DEPTH = {
    "Point": 0,
    "LineString": 1,
    "MultiPoint": 1,
    "Polygon": 2,
    "MultiLineString": 2,
    "MultiPolygon": 3,
}
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*'?)
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_:.]*)
  | (?P<op><>|<=|>=|=|<|>|\(|\)|,|\[|\])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int  # 1-based character position, as people count

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def _tokens(source: str) -> list[_Token]:
    tokens, at = [], 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None:
            raise FilterError(f"unexpected character {source[at]!r}", at + 1)
        kind = match.lastgroup or ""
        closed = match.end() - match.start() > 1 and source[match.end() - 1] == "'"
        if kind == "string" and not closed:
            raise FilterError("a quoted text is not closed", at + 1)
        if kind != "space":
            tokens.append(_Token(kind, match.group(), at + 1))
        at = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        if len(source) > MAX_FILTER_LENGTH:
            raise FilterError(f"the filter is longer than {MAX_FILTER_LENGTH:,} characters")
        self.source = source
        self.tokens = _tokens(source)
        self.at = 0
        self.depth = 0

    # -- token helpers --------------------------------------------------------------------
    def peek(self, offset: int = 0) -> _Token | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def _where(self) -> int:
        token = self.peek()
        return token.position if token else len(self.source) + 1

    def _found(self) -> str:
        token = self.peek()
        return f"found {token.text[:40]!r}" if token else "found the end of the filter"

    def fail(self, expected: str) -> FilterError:
        return FilterError(f"expected {expected}, {self._found()}", self._where())

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail("more")
        self.at += 1
        return token

    def accept_word(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.upper in words:
            self.at += 1
            return True
        return False

    def expect(self, text: str, what: str | None = None) -> None:
        token = self.peek()
        if token is None or (token.upper or token.text) != text:
            raise self.fail(what or repr(text))
        self.at += 1

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> dict[str, Any]:
        if not self.tokens:
            raise FilterError("the filter is empty")
        expression = self.boolean()
        if self.peek() is not None:
            raise self.fail("AND, OR or the end of the filter")
        return expression

    def boolean(self) -> dict[str, Any]:
        self.depth += 1
        if self.depth > 50:
            raise FilterError("the filter nests deeper than 50 levels", self._where())
        terms = [self.term()]
        while self.accept_word("OR"):
            terms.append(self.term())
        self.depth -= 1
        return terms[0] if len(terms) == 1 else {"op": "or", "args": terms}

    def term(self) -> dict[str, Any]:
        factors = [self.factor()]
        while self.accept_word("AND"):
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else {"op": "and", "args": factors}

    def factor(self) -> dict[str, Any]:
        if self.accept_word("NOT"):
            return {"op": "not", "args": [self.factor()]}
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            inner = self.boolean()
            self.expect(")", "a closing ')'")
            return inner
        return self.predicate()

    def predicate(self) -> dict[str, Any]:
        token = self.peek()
        if token is not None and token.upper in _SPATIAL and self._next_is("("):
            self.take()
            self.expect("(", "'(' after " + token.text)
            first = self.geometry_operand()
            self.expect(",", "',' between the two geometries")
            second = self.geometry_operand()
            self.expect(")", "a closing ')'")
            return {"op": _SPATIAL[token.upper], "args": [first, second]}
        if token is not None and token.upper in {"TRUE", "FALSE"}:
            following = self.peek(1)
            if following is None or following.upper in {"AND", "OR"} or following.text == ")":
                self.take()
                return {"op": "=", "args": [token.upper == "TRUE", True]}
        left = self.scalar()
        negated = self.accept_word("NOT")
        if self.accept_word("LIKE"):
            result: dict[str, Any] = {"op": "like", "args": [left, self.scalar()]}
        elif self.accept_word("BETWEEN"):
            low = self.scalar()
            self.expect("AND", "AND between the two bounds of BETWEEN")
            result = {"op": "between", "args": [left, low, self.scalar()]}
        elif self.accept_word("IN"):
            self.expect("(", "'(' opening the list of IN")
            values = [self.scalar()]
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                values.append(self.scalar())
            self.expect(")", "',' or a closing ')' of the list")
            result = {"op": "in", "args": [left, values]}
        elif not negated and self.accept_word("IS"):
            is_not = self.accept_word("NOT")
            self.expect("NULL", "NULL after IS")
            result = {"op": "isNull", "args": [left]}
            return {"op": "not", "args": [result]} if is_not else result
        elif not negated and self.peek() is not None and self.peek().text in _COMPARISONS:  # type: ignore[union-attr]
            operator = self.take().text
            return {"op": operator, "args": [left, self.scalar()]}
        else:
            raise self.fail(
                "LIKE, BETWEEN or IN"
                if negated
                else "a comparison (=, <>, <, <=, >, >=), LIKE, BETWEEN, IN or IS NULL"
            )
        return {"op": "not", "args": [result]} if negated else result

    def _next_is(self, text: str) -> bool:
        following = self.peek(1)
        return following is not None and following.text == text

    def scalar(self) -> Any:
        if self.peek() is None:
            raise self.fail("a property name or a value")
        token = self.take()
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'")
        if token.kind == "number":
            return Decimal(token.text)
        if token.kind == "quoted":
            return {"property": token.text[1:-1].replace('""', '"')}
        if token.kind == "word":
            if token.upper in {"TRUE", "FALSE"}:
                return token.upper == "TRUE"
            if token.upper in {"DATE", "TIMESTAMP"} and self.peek() and self.peek().text == "(":  # type: ignore[union-attr]
                self.take()
                value = self.take()
                if value.kind != "string":
                    self.at -= 1
                    raise self.fail(f"a quoted {token.upper.lower()} in {token.upper}(...)")
                self.expect(")", "a closing ')'")
                return {token.upper.lower(): value.text[1:-1]}
            if token.upper in {"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL"}:
                self.at -= 1
                raise self.fail("a property name or a value")
            return {"property": token.text}
        self.at -= 1
        raise self.fail("a property name or a value")

    def geometry_operand(self) -> Any:
        token = self.peek()
        if token is None:
            raise self.fail("a geometry")
        if token.upper == "BBOX" and self._next_is("("):
            self.take()
            self.take()
            numbers = [self.number()]
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                numbers.append(self.number())
            self.expect(")", "a closing ')' of BBOX")
            if len(numbers) not in (4, 6):
                raise FilterError("BBOX takes 4 numbers (or 6 in 3D)", token.position)
            return {"bbox": numbers}
        if token.upper in _WKT:
            self.take()
            kind = _WKT[token.upper]
            self.accept_word("Z")
            return {"type": kind, "coordinates": self.coordinates(_WKT_DEPTH[kind], kind)}
        if token.upper == "GEOMETRYCOLLECTION":
            raise FilterError("GEOMETRYCOLLECTION is not supported here", token.position)
        return self.scalar()

    def number(self) -> float:
        token = self.take()
        if token.kind != "number":
            self.at -= 1
            raise self.fail("a number")
        return float(token.text)

    def position_tuple(self) -> list[float]:
        values = [self.number()]
        while self.peek() is not None and self.peek().kind == "number":  # type: ignore[union-attr]
            values.append(self.number())
        if len(values) not in (2, 3):
            raise FilterError("a position has 2 or 3 numbers", self._where())
        return values

    def coordinates(self, depth: int, kind: str) -> Any:
        self.expect("(", f"'(' in {kind.upper()}")
        items: list[Any] = []
        while True:
            if depth == 0:
                items.append(self.position_tuple())
            elif depth == 1:
                nested = kind == "MultiPoint" and not self._bare_position()
                items.append(self.coordinates(0, kind) if nested else self.position_tuple())
            else:
                items.append(self.coordinates(depth - 1, kind))
            if depth == 0:
                break
            token = self.peek()
            if token is not None and token.text == ",":
                self.take()
                continue
            break
        self.expect(")", f"',' or ')' in {kind.upper()}")
        return items[0] if depth == 0 else items

    def _bare_position(self) -> bool:
        token = self.peek()
        return token is not None and token.kind == "number"


def parse_cql2_text(source: str) -> dict[str, Any]:
    """The CQL2-JSON form of the CQL2 text `source`; `FilterError` says what is wrong where."""
    return _Parser(source).parse()
