"""Reading features: one page of a collection streamed from a server-side cursor, one feature,
the number matched, the extent. GeoJSON is made by PostGIS (`ST_AsGeoJSON`,
`json_build_object`), and Python only joins the text, so the memory a page takes is one chunk of
rows, whatever `limit` says.

Paging is keyset on the feature id (`after`: the last id of the previous page), stable under edits
and as fast on the last page as on the first; a `sortby` order pages by offset instead, since a
keyset over arbitrary columns with NULLs and mixed directions costs more than it saves here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from registry.errors import NotFound
from registry.features.collections import Collection
from registry.features.collections import Property
from registry.features.cql2 import CompiledFilter
from registry.features.crs import Crs
from registry.features.crs import from_storage
from registry.features.crs import to_storage
from registry.settings import STORAGE_SRID

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
MAX_OFFSET = 1_000_000
#: rows fetched from the cursor (and features written) at a time
CHUNK_ROWS = 500
#: smaller pages are fetched whole (no server-side cursor: fewer round trips, under 1 MB)
STREAM_FROM_LIMIT = 2_000


class QueryRefused(ValueError):
    """The database refused the page's statement (a filter's geometry it cannot use, a value out
    of range); the message is the database's first line, which names no server path."""


@dataclass(frozen=True)
class ItemsQuery:
    collection: Collection
    public: bool
    crs: Crs
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: Crs | None = None
    filter: CompiledFilter | None = None
    #: the temporal property between these bounds (either may be open)
    period: tuple[dt.datetime | None, dt.datetime | None] | None = None
    #: (property, descending) pairs
    sortby: tuple[tuple[Property, bool], ...] = ()
    #: the properties to return (None: every visible one)
    properties: tuple[Property, ...] | None = None
    limit: int = DEFAULT_LIMIT
    after: str | None = None
    offset: int = 0


@dataclass(frozen=True)
class PageEnd:
    """What is known once a page is written: how many, and where the next page starts."""

    number_returned: int
    next_after: str | None
    next_offset: int | None


def feature_sql(
    collection: Collection, crs: Crs, properties: tuple[Property, ...], public: bool
) -> str:
    """SQL of one feature of `collection` as GeoJSON text, its geometry in `crs`."""
    del public  # the properties given are already the visible ones
    members = ", ".join(f"'{p.name}', {p.output_sql}" for p in properties)
    geometry = from_storage(collection.geometry, crs, collection.web_mercator)
    return (
        "json_build_object('type', 'Feature', 'id', "
        f"{collection.feature_id}, 'geometry', "
        f"ST_AsGeoJSON({geometry}, {crs.decimals}, 0)::json, "
        f"'properties', json_build_object({members}))::text"
    )


def _conditions(query: ItemsQuery, params: dict[str, Any]) -> list[str]:
    collection = query.collection
    conditions = [collection.condition]
    if query.bbox is not None and query.bbox_crs is not None:
        envelope = to_storage(
            f"ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, {query.bbox_crs.srid})", query.bbox_crs
        )
        # an envelope that does not depend on the row, so the GiST index is used
        conditions.append(
            f"{collection.geometry} && {envelope} "
            f"AND ST_Intersects({collection.geometry}, {envelope})"
        )
        params.update(zip(("xmin", "ymin", "xmax", "ymax"), query.bbox, strict=True))
    if query.filter is not None:
        conditions.append(query.filter.sql)
        params.update(query.filter.params)
    if query.period is not None and collection.temporal:
        temporal = collection.property(collection.temporal, query.public)
        assert temporal is not None  # the caller refuses `datetime` otherwise
        start, end = query.period
        if start is not None:
            conditions.append(f"{temporal.sql} >= :period_start")
            params["period_start"] = start
        if end is not None:
            conditions.append(f"{temporal.sql} <= :period_end")
            params["period_end"] = end
    return conditions


def items_sql(query: ItemsQuery) -> tuple[str, dict[str, Any]]:
    """The page's statement: (feature id, feature text) rows, one more than `limit`."""
    collection = query.collection
    params: dict[str, Any] = {"limit": query.limit + 1}
    conditions = _conditions(query, params)
    if query.sortby:
        order = ", ".join(
            f"{p.sql} {'DESC' if down else 'ASC'} NULLS LAST" for p, down in query.sortby
        )
        order += f", {collection.feature_id}"
        paging = "LIMIT :limit OFFSET :offset"
        params["offset"] = query.offset
    else:
        if query.after is not None:
            conditions.append(f"{collection.feature_id} > :after")
            params["after"] = query.after
        order, paging = collection.feature_id, "LIMIT :limit"
    properties = query.properties
    if properties is None:
        properties = collection.visible(query.public)
    feature = feature_sql(collection, query.crs, properties, query.public)
    return (
        f"SELECT {collection.feature_id} AS feature_id, {feature} AS feature "
        f"FROM {collection.source} WHERE {' AND '.join(conditions)} ORDER BY {order} {paging}",
        params,
    )


def count_sql(query: ItemsQuery) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    conditions = _conditions(query, params)
    return (
        f"SELECT count(*) FROM {query.collection.source} WHERE {' AND '.join(conditions)}",
        params,
    )


def stream_items(
    engine: Engine,
    query: ItemsQuery,
    head: Callable[[int | None], str],
    tail: Callable[[PageEnd], str],
    count: bool,
) -> Generator[str, None, None]:
    """The page as text pieces: `head(number_matched)`, the features, then `tail(end)`.

    A page under `STREAM_FROM_LIMIT` features (nearly every request of a map or a GIS client)
    is ONE statement in autocommit, the count a scalar subquery of it, so the count and the
    features agree without a transaction and the request costs one round trip, as the bare query
    does (the BEGIN, count, cursor and COMMIT round trips cost a small page more than its SQL).
    A larger page is one REPEATABLE READ transaction (the count, then the rows) read from a
    server-side cursor `CHUNK_ROWS` at a time, so memory stays flat whatever `limit`. Either
    way the first piece is made only after the first rows are fetched, so a caller that takes
    it before answering turns a database error (a filter the database refuses) into an error
    answer, not a cut-off body. The connection goes back to the pool when the generator ends or
    is closed (client gone).
    """
    if query.limit < STREAM_FROM_LIMIT:
        yield from _small_page(engine, query, head, tail, count)
        return
    statement, params = items_sql(query)
    with engine.connect() as connection:
        streaming = connection.execution_options(
            isolation_level="REPEATABLE READ", stream_results=True, max_row_buffer=CHUNK_ROWS
        )
        with streaming.begin():
            try:
                matched = _count(streaming, query) if count else None
                result = streaming.execute(text(statement), params)
                rows = result.fetchmany(CHUNK_ROWS)
            except DBAPIError as error:
                raise QueryRefused(str(error.orig).splitlines()[0][:200]) from None
            try:
                yield head(matched)
                page = _Page(query)
                while rows:
                    yield from page.pieces(rows)
                    if page.has_more:
                        break
                    rows = result.fetchmany(CHUNK_ROWS)
            finally:  # also when the client goes away mid-page (GeneratorExit)
                result.close()
    yield tail(page.end())


def _small_page(
    engine: Engine,
    query: ItemsQuery,
    head: Callable[[int | None], str],
    tail: Callable[[PageEnd], str],
    count: bool,
) -> Generator[str, None, None]:
    statement, params = items_sql(query)
    if count:
        counted, count_params = count_sql(query)
        assert all(params.get(name) == value for name, value in count_params.items())
        # the count rides on every row (an uncorrelated subquery: computed once)
        statement = statement.replace("SELECT ", f"SELECT ({counted}) AS matched, ", 1)
    with engine.connect() as connection:
        try:
            rows = connection.execute(text(statement), params).all()
            matched = None
            if count:
                # an empty page (an offset past the end) carries no count: ask for it
                matched = int(rows[0][0]) if rows else _count(connection, query)
        except DBAPIError as error:
            raise QueryRefused(str(error.orig).splitlines()[0][:200]) from None
    yield head(matched)
    page = _Page(query)
    yield from page.pieces([row[1:] if count else row for row in rows])
    yield tail(page.end())


class _Page:
    """Features of a page as they are read: which was the last, and whether more follow."""

    def __init__(self, query: ItemsQuery) -> None:
        self.query = query
        self.returned = 0
        self.last_id: Any = None
        self.has_more = False

    def pieces(self, rows: Any) -> Generator[str, None, None]:
        pieces = []
        for feature_id, feature in rows:
            if self.returned == self.query.limit:
                self.has_more = True
                break
            pieces.append(feature)
            self.returned, self.last_id = self.returned + 1, feature_id
        if pieces:
            yield ("," if self.returned > len(pieces) else "") + ",".join(pieces)

    def end(self) -> PageEnd:
        query, more = self.query, self.has_more
        next_after = self.last_id if more and not query.sortby else None
        next_offset = query.offset + self.returned if more and query.sortby else None
        return PageEnd(self.returned, next_after, next_offset)


def _count(connection: Connection, query: ItemsQuery) -> int:
    statement, params = count_sql(query)
    return int(connection.execute(text(statement), params).scalar_one())


@dataclass(frozen=True)
class OneFeature:
    feature_id: str
    version: int
    geojson: str


def one_feature(
    connection: Connection,
    collection: Collection,
    feature_id: str,
    public: bool,
    crs: Crs,
    properties: tuple[Property, ...] | None = None,
) -> OneFeature:
    if properties is None:
        properties = collection.visible(public)
    row = connection.execute(
        text(
            f"SELECT {collection.version}, {feature_sql(collection, crs, properties, public)} "
            f"FROM {collection.source} WHERE {collection.condition} "
            f"AND {collection.feature_id} = :feature_id"
        ),
        {"feature_id": feature_id},
    ).one_or_none()
    if row is None:
        raise NotFound(collection.title.lower().rstrip("s"), feature_id)
    return OneFeature(feature_id, int(row[0]), row[1])


def collection_extent(
    connection: Connection, collection: Collection
) -> tuple[float, float, float, float] | None:
    """The box around the collection's features in longitude/latitude, or None when empty."""
    box = connection.execute(
        text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT ST_Transform("
            f"ST_SetSRID(ST_Extent({collection.geometry})::geometry, {STORAGE_SRID}), 4326) AS b "
            f"FROM {collection.source} WHERE {collection.condition}) AS extent"
        )
    ).one()
    if box[0] is None:
        return None
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
