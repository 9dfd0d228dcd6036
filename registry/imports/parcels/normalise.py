"""Turning one batch of raw text values into typed parcel values, vectorized with pandas.

A value that does not parse is a problem for its row and field, never a guess: no date is
assumed, no id is "fixed", nothing is filled in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from functools import partial
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from registry.fields import Problems, to_money
from registry.imports.cells import blank_values, parse_date, parse_number
from registry.imports.parcels.mapping import REQUIRED_FIELDS, FieldMapping
from registry.imports.parcels.source import FeatureBatch
from registry.imports.report import SkippedRow
from registry.imports.rows import TOTAL_WORD, skip_reason, skipped_text
from registry.vocabulary import ASSET_TYPES, DIGITIZATION_STATUSES, LEGAL_INTERESTS, PARCEL_STATUSES

PLACEHOLDER_ID = re.compile(r"^[\s\-_.?#*0]*$|^(n/?a|tbd|unknown|none|null|pending|xxx+)$", re.I)
SCIENTIFIC_ID = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
PLAIN_AMOUNT = r"[0-9]{1,12}(\.[0-9]{1,2})?"  # at most MAX_MONEY's digits: read as it is
_ENUMS = {
    "status": PARCEL_STATUSES,
    "legal_interest": LEGAL_INTERESTS,
    "asset_type": ASSET_TYPES,
    "digitization_status": DIGITIZATION_STATUSES,
}
_ENUM_SYNONYMS = {
    "status": {"vacant": "no_current_use", "unused": "no_current_use", "active": "in_use",
               "leased": "leased_out", "sold": "disposed", "excess": "surplus"},
    "legal_interest": {"own": "owned", "fee": "owned", "fee_simple": "owned", "lease": "leased",
                       "leased_in": "leased"},
}
PROBLEM_COLUMNS = ["row_number", "record_id", "field", "message", "value"]
_Converted = TypeVar("_Converted", pd.Series, pd.DataFrame)


def _text(values: pa.Array) -> pd.Series:
    """The column as trimmed text; blank cells (`NULL`, `N/A` too) are NA."""
    series = pd.Series(pd.arrays.ArrowStringArray(values))
    return series.str.strip().mask(blank_values(series))


def _per_value(values: pd.Series, convert: Callable[[pd.Series], _Converted]) -> _Converted:
    """`convert` applied to each distinct value once (NA included) and spread back over the
    rows: a column of codes repeats a handful of values, one of dates a few thousand, and the
    conversions are regexes and parsers that cost per value."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    converted = convert(pd.Series(distinct, dtype=values.dtype))
    return converted.iloc[codes].set_axis(values.index)


def _problems(frame: pd.DataFrame, mask: pd.Series, field: str, message: str,
              values: pd.Series) -> pd.DataFrame:
    picked = frame.loc[mask]
    return pd.DataFrame({
        "row_number": picked["row_number"], "record_id": picked["parcel_id_raw"],
        "field": field, "message": message, "value": values.loc[mask].astype("string"),
    })


def _enum_keys(values: pd.Series, synonyms: dict[str, str]) -> pd.Series:
    keyed = values.str.lower().str.replace(r"[\s\-/]+", "_", regex=True)
    return keyed.replace(synonyms)


def _district_numbers(values: pd.Series) -> pd.Series:
    bare = values.str.replace(r"^(cd|district)\s*", "", case=False, regex=True)
    return pd.to_numeric(bare, errors="coerce")


def _parse_dates(values: pd.Series) -> pd.Series:
    return values.astype(object).map(parse_date)


def _parse_amounts(values: pd.Series) -> pd.DataFrame:
    """Each value's amount, or the reason it is none (None for a blank). A plain amount (digits,
    at most two decimals: nearly every one) is read as it is, the rest by `_parse_money`."""
    plain = values.str.fullmatch(PLAIN_AMOUNT).fillna(False).tolist()
    parsed = [Decimal(value) if is_plain else _parse_money(value)
              for value, is_plain in zip(values.tolist(), plain, strict=True)]
    return pd.DataFrame({
        "amount": pd.Series([v if isinstance(v, Decimal) else None for v in parsed], dtype=object),
        "reason": pd.Series([v if isinstance(v, str) else None for v in parsed], dtype=object),
    })


def _parse_money(value: object) -> Decimal | str | None:
    """A Decimal, None for blank, or the reason it is not an amount: read as every importer
    reads a cell ("$1,234.50"), checked as every writer checks money (whole cents, ≥ 0)."""
    if value is None or value is pd.NA:
        return None
    number = parse_number(str(value), money=True)
    if number is None:
        return "is not an amount"
    problems = Problems()
    amount = to_money(problems, "amount", number)
    return amount if amount is not None else problems[0].message


def _not_records(batch: FeatureBatch, key_column: str | None) -> list[tuple[int, str, str]]:
    """(position, reason, text) of the rows that are not parcels (`rows.skip_reason`: blank,
    heading, total). Only a row without a shape can be one, and only one with at most one
    filled cell or no usable id needs asking: a file of shapes asks about none."""
    positions = np.flatnonzero(pc.is_null(batch.geometry).to_numpy(zero_copy_only=False))
    if not len(positions):
        return []
    taken = pa.array(positions)
    cells = {name: pd.Series(pd.arrays.ArrowStringArray(pc.cast(column.take(taken),
                                                                 pa.string())))
             for name, column in batch.columns.items()}
    filled = sum((~blank_values(values)).astype(int) for values in cells.values())
    asked = pd.Series(True, index=range(len(positions))) if key_column is None else (
        (filled <= 1) | blank_values(cells[key_column])
        | cells[key_column].str.match(TOTAL_WORD.pattern, case=False).fillna(False))
    found = []
    for index in np.flatnonzero(asked.to_numpy(dtype=bool)):
        row = [(name, None if pd.isna(values.iloc[index]) else values.iloc[index])
               for name, values in cells.items()]
        reason = skip_reason(row, {key_column} if key_column else ())
        if reason:
            found.append((int(positions[index]), reason, skipped_text(row)))
    return found


def normalise_batch(batch: FeatureBatch, mapping: FieldMapping, parcel_id_pattern: str,
                    council_districts: int
                    ) -> tuple[pd.DataFrame, pd.DataFrame, list[SkippedRow]]:
    """Typed staging rows, the value problems found in them, and the rows that are not parcels
    (left out of both)."""
    numbers = np.arange(batch.first_row, batch.first_row + len(batch))
    not_records = _not_records(batch, mapping.source_of("parcel_id"))
    if not_records:
        keep = np.ones(len(batch), dtype=bool)
        keep[[position for position, _, _ in not_records]] = False
        numbers = numbers[keep]
        batch = replace(batch, geometry=batch.geometry.filter(pa.array(keep)), columns={
            name: column.filter(pa.array(keep)) for name, column in batch.columns.items()})
    frame = pd.DataFrame({"row_number": numbers})
    for target, source in mapping.columns.items():
        frame[target] = _text(batch.columns[source])
    for target, value in mapping.defaults.items():
        frame[target] = frame[target].fillna(value) if target in frame else pd.Series(
            value, index=frame.index, dtype="string")
    frame["parcel_id_raw"] = frame.get("parcel_id", pd.NA)
    problems: list[pd.DataFrame] = []

    def flag(mask: pd.Series, field: str, message: str, values: pd.Series) -> None:
        if mask.any():
            problems.append(_problems(frame, mask, field, message, values))

    for field in REQUIRED_FIELDS:
        if field in frame:
            flag(frame[field].isna(), field, "is required", frame[field])
        else:
            flag(pd.Series(True, index=frame.index), field,
                 "is required, but no column of the file maps to it (use --map)",
                 pd.Series(pd.NA, index=frame.index))
    if "parcel_id" in frame:
        ids = frame["parcel_id"].fillna("")
        present = frame["parcel_id"].notna()
        scientific = present & ids.str.fullmatch(SCIENTIFIC_ID.pattern)
        placeholder = present & ~scientific & ids.str.match(PLACEHOLDER_ID)
        malformed = present & ~scientific & ~placeholder & ~ids.str.fullmatch(parcel_id_pattern)
        flag(scientific, "parcel_id", "looks like a number a spreadsheet turned into scientific "
             "notation; the real id is lost: correct it in the source", frame["parcel_id"])
        flag(placeholder, "parcel_id", "is a placeholder, not a parcel id", frame["parcel_id"])
        flag(malformed, "parcel_id", f"does not match the parcel-id format {parcel_id_pattern}",
             frame["parcel_id"])
        frame.loc[scientific | placeholder | malformed, "parcel_id"] = pd.NA
    for field, allowed in _ENUMS.items():
        if field not in frame:
            continue
        raw = frame[field]
        keyed = _per_value(raw, partial(_enum_keys, synonyms=_ENUM_SYNONYMS.get(field, {})))
        bad = raw.notna() & ~keyed.isin(allowed)
        flag(bad, field, f"must be one of: {', '.join(allowed)}", raw)
        frame[field] = keyed.mask(bad)
    if "council_district" in frame:
        raw = frame["council_district"]
        number = _per_value(raw, _district_numbers)
        bad = raw.notna() & ~(number.between(1, council_districts) & (number % 1 == 0))
        flag(bad, "council_district", f"must be a district number from 1 to {council_districts}",
             raw)
        frame["council_district"] = number.mask(bad).astype("Int64")
    for field in ("acquisition_date", "disposition_date"):
        if field in frame:
            raw = frame[field]
            parsed = _per_value(raw, _parse_dates)
            flag(raw.notna() & parsed.isna(), field,
                 "is not a date (YYYY-MM-DD or MM/DD/YYYY)", raw)
            frame[field] = parsed
    for field in ("acquisition_cost", "disposition_proceeds"):
        if field in frame:
            raw = frame[field]
            parsed = _per_value(raw, _parse_amounts)
            for reason in sorted(set(parsed["reason"].dropna())):
                flag(parsed["reason"] == reason, field, reason, raw)
            frame[field] = parsed["amount"]
    frame["geom"] = batch.geometry.to_pylist()
    found = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(
        columns=PROBLEM_COLUMNS)
    skipped = [SkippedRow(batch.first_row + position, reason, text)
               for position, reason, text in not_records]
    return frame, found, skipped
