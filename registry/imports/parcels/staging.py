"""The staging table of one import: typed rows COPYed in batch by batch, then geometry-checked,
cross-checked and upserted by set-based SQL."""

from __future__ import annotations

import struct

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.city.departments import DepartmentMatch
from registry.city.departments import DepartmentResolver
from registry.db import copy_frame_binary
from registry.geometry_limits import size_condition_sql
from registry.imports.batches import PROBLEM_TYPES
from registry.imports.parcels.mapping import TARGET_FIELDS
from registry.imports.parcels.normalise import PROBLEM_COLUMNS
from registry.settings import STORAGE_SRID
from registry.settings import Settings

_TYPES = {
    "council_district": "smallint", "acquisition_date": "date", "acquisition_cost": "numeric",
    "disposition_date": "date", "disposition_proceeds": "numeric",
}  # fmt: skip
# How each staged column travels in binary COPY (text unless named): the shape as EWKB bytes,
# which PostGIS reads with the checks of ST_GeomFromWKB (closed rings, enough points).
_COPY_TYPES = {
    **_TYPES,
    "row_number": "integer",
    "department_id": "integer",
    "geom": "bytea",
    "department_uncertain": "boolean",
}
STAGED_COLUMNS = [
    "row_number",
    *TARGET_FIELDS,
    "parcel_id_raw",
    "geom",
    "department_id",
    "department_uncertain",
]
_EWKB_SRID_FLAG = 0x20000000


def _create_tables(session: Session, source: bool, settings: Settings) -> None:
    columns = ", ".join(f"{name} {_TYPES.get(name, 'text')}" for name in TARGET_FIELDS)
    for statement in (
        "SET LOCAL jit = off",  # compiling these one-off statements costs more than it saves
        "DROP TABLE IF EXISTS import_rows",
        "DROP TABLE IF EXISTS import_source",
        "DROP TABLE IF EXISTS import_found",
        "DROP TABLE IF EXISTS import_repairs",
        f"""CREATE TEMP TABLE import_rows (
                row_number integer NOT NULL, {columns}, parcel_id_raw text, geom geometry,
                department_id integer, department_uncertain boolean NOT NULL DEFAULT false,
                ok boolean NOT NULL DEFAULT true,
                valid boolean GENERATED ALWAYS AS (
                    CASE WHEN GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')
                              AND NOT ST_IsEmpty(geom)
                              AND NOT {size_condition_sql("geom", settings)}
                         THEN ST_IsValid(geom) END) STORED
            ) ON COMMIT DROP""",
        *(
            ["CREATE TEMP TABLE import_source (LIKE import_rows INCLUDING DEFAULTS) ON COMMIT DROP"]
            if source
            else []
        ),
        """CREATE TEMP TABLE import_found (
                row_number integer, record_id text, field text NOT NULL,
                severity text NOT NULL DEFAULT 'error', message text NOT NULL, details jsonb
            ) ON COMMIT DROP""",
        # the ST_MakeValid repairs of invalid shapes, measured but not kept (checks.py)
        """CREATE TEMP TABLE import_repairs (
                row_number integer NOT NULL, parcel_id_raw text, parcel_id text, geom geometry
            ) ON COMMIT DROP""",
    ):
        session.execute(text(statement))


def _as_ewkb(geometries: list[bytes | None], srid: int) -> list[bytes | None]:
    """Each WKB as EWKB that carries `srid`: its type gets the SRID flag and the SRID follows,
    in the WKB's own byte order. The new header is made once per (byte order, type)."""
    headers: dict[bytes, tuple[bytes, int]] = {}

    def header(start: bytes) -> tuple[bytes, int]:
        order = "<" if start[0] == 1 else ">"
        (kind,) = struct.unpack(f"{order}I", start[1:5])
        rest = 9 if kind & _EWKB_SRID_FLAG else 5  # an SRID already there is replaced
        return start[:1] + struct.pack(f"{order}II", kind | _EWKB_SRID_FLAG, srid), rest

    ewkb: list[bytes | None] = []
    for wkb in geometries:
        if not wkb or len(wkb) < 9:  # no shape, or no WKB: PostGIS rejects the latter
            ewkb.append(wkb or None)
            continue
        found = headers.get(wkb[:5])
        if found is None:
            found = headers[wkb[:5]] = header(wkb[:5])
        ewkb.append(found[0] + wkb[found[1] :])
    return ewkb


class Staging:
    """The staging tables of one import: `add` each normalised batch, then `finish`.

    Each row is written once: its shape straight into `geom` and its department resolved on
    the way in (`registry.city.departments`: code, name or alias; `GSD?` is GSD, flagged
    uncertain), each distinct value once per import; `departments` keeps what each value
    matched, for the department check. Only a file in
    another SRID is written twice: loaded as it is into `import_source`, then reprojected into
    `import_rows` by one INSERT, which leaves no dead rows behind as an UPDATE would.

    `valid` is ST_IsValid of a non-empty polygon within the size limits (NULL for no shape,
    another kind, or a shape over `REGISTRY_MAX_VERTICES` / `REGISTRY_MAX_PARTS`, which is never
    validated: counting its corners is cheap, validating a million of them is not), computed
    as each row is written and again only if its shape changes: the geometry checks and the
    overlap check read it instead of validating each shape again, pair by pair.
    """

    def __init__(self, session: Session, source_srid: int, settings: Settings) -> None:
        self._session = session
        self._srid = source_srid
        self._table = "import_rows" if source_srid == STORAGE_SRID else "import_source"
        self._resolve: DepartmentResolver | None = None
        self.departments: dict[str, DepartmentMatch] = {}
        _create_tables(session, self._table == "import_source", settings)

    def add(self, rows: pd.DataFrame, problems: pd.DataFrame) -> None:
        rows = rows.assign(geom=_as_ewkb(rows["geom"].tolist(), self._srid))
        if "department_code" in rows:
            codes = rows["department_code"]
            self._resolve_new(codes)
            rows["department_id"] = codes.map(
                {value: match.department_id for value, match in self.departments.items()}
            ).astype("Int64")
            rows["department_uncertain"] = (
                codes.map({value: match.uncertain for value, match in self.departments.items()})
                .fillna(False)
                .astype(bool)
            )
        present = [name for name in STAGED_COLUMNS if name in rows.columns]
        copy_frame_binary(
            self._session,
            self._table,
            rows[present],
            {name: _COPY_TYPES.get(name, "text") for name in present},
        )
        found = problems.assign(
            details=[
                None if value is None or value is pd.NA else {"value": str(value)}
                for value in problems["value"]
            ]
        )
        copy_frame_binary(self._session, "import_found", found, PROBLEM_TYPES)

    def finish(self) -> None:
        """Reproject if need be, then index and analyze the rows for the checks.

        The index is built in one pass, after loading, rather than grown row by row; and
        before any UPDATE, since one built after this transaction updated rows would be
        unusable until it ends (pg_index.indcheckxmin), and the overlap check would pair every
        feature with every other. Its sparse pages (fillfactor 10, which only the buffering
        build honours) halve the cost of the overlap check's probes, one per feature. The
        statistics keep the later joins on parcel_id right (hash joins, not nested loops)."""
        if self._table == "import_source":
            values = [
                f"ST_Transform(geom, {STORAGE_SRID})" if name == "geom" else name
                for name in STAGED_COLUMNS
            ]
            self._session.execute(
                text(
                    f"INSERT INTO import_rows ({', '.join(STAGED_COLUMNS)}) "
                    f"SELECT {', '.join(values)} FROM import_source"
                )
            )
            self._session.execute(text("DROP TABLE import_source"))
        for statement in (
            "CREATE INDEX import_rows_geom ON import_rows USING gist (geom) "
            "WITH (fillfactor = 10, buffering = on)",
            "ANALYZE import_rows (parcel_id, ok, valid)",
        ):
            self._session.execute(text(statement))

    def _resolve_new(self, codes: pd.Series) -> None:
        """Resolve the values not seen before (the departments are read at the first)."""
        unseen = [value for value in codes.dropna().unique() if value not in self.departments]
        if unseen:
            resolve = self._resolve = self._resolve or DepartmentResolver(self._session)
            self.departments.update({value: resolve(value) for value in unseen})


__all__ = ["PROBLEM_COLUMNS", "STAGED_COLUMNS", "Staging"]
