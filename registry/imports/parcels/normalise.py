"""Turning one batch of raw text values into typed parcel values, vectorized with pandas.

A value that does not parse is a finding for its row and field, never a guess: no date is
assumed, no id is "fixed", nothing is filled in. Each finding is an *error* (the row is refused:
a missing, placeholder or malformed id, a value that matches nothing, an end before its start)
or a *warning* (the record is stored without the value: a blank required field, which leaves it
incomplete; free text where a date goes; a number a spreadsheet ruined).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal
from functools import partial
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from registry.city.ids import MAX_ID_LENGTH
from registry.city.ids import NO_INFORMATION
from registry.city.ids import SPREADSHEET_NUMBER
from registry.city.ids import canonical_parcel_id
from registry.city.ids import id_problem
from registry.city.profile import CityProfile
from registry.fields import Problems
from registry.fields import to_money
from registry.imports.cells import blank_values
from registry.imports.cells import parse_date
from registry.imports.cells import parse_number
from registry.imports.parcels.mapping import EXPECTED_FIELDS
from registry.imports.parcels.mapping import KEY_FIELD
from registry.imports.parcels.mapping import FieldMapping
from registry.imports.parcels.source import FeatureBatch
from registry.imports.report import SkippedRow
from registry.imports.rows import TOTAL_WORD
from registry.imports.rows import skip_reason
from registry.imports.rows import skipped_text
from registry.parcels.validation import district_rule
from registry.vocabulary import ASSET_TYPES
from registry.vocabulary import DIGITIZATION_STATUSES
from registry.vocabulary import LEGAL_INTERESTS
from registry.vocabulary import PARCEL_STATUSES

PLAIN_AMOUNT = r"[0-9]{1,12}(\.[0-9]{1,2})?"  # at most MAX_MONEY's digits: read as it is
_ENUMS = {
    "status": PARCEL_STATUSES,
    "legal_interest": LEGAL_INTERESTS,
    "asset_type": ASSET_TYPES,
    "digitization_status": DIGITIZATION_STATUSES,
}
_ENUM_SYNONYMS = {
    "status": {
        "vacant": "no_current_use",
        "unused": "no_current_use",
        "active": "in_use",
        "leased": "leased_out",
        "sold": "disposed",
        "excess": "surplus",
    },
    "legal_interest": {
        "own": "owned",
        "fee": "owned",
        "fee_simple": "owned",
        "lease": "leased",
        "leased_in": "leased",
    },
}
PROBLEM_COLUMNS = ["row_number", "record_id", "field", "message", "value", "severity"]
#: Fields verification needs whose blank cell is reported as missing (the record is stored,
#: incomplete): those a file is expected to give, and the use when the file gives one.
MISSING_REPORTED = (*EXPECTED_FIELDS, "use")
NOT_AN_AMOUNT = "is not an amount"
_SPREADSHEET_DAMAGE = (
    "looks like a number a spreadsheet turned into scientific notation: the real value is lost"
)
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


def _problems(
    frame: pd.DataFrame,
    mask: pd.Series,
    field: str,
    message: str | pd.Series,
    values: pd.Series,
    severity: str = "error",
) -> pd.DataFrame:
    picked = frame.loc[mask]
    return pd.DataFrame(
        {
            "row_number": picked["row_number"],
            "record_id": picked["parcel_id_raw"],
            "field": field,
            "message": message if isinstance(message, str) else message.loc[mask],
            "value": values.loc[mask].astype("string"),
            "severity": severity,
        }
    )


@dataclass(frozen=True)
class CityRules:
    """What the city profile says about parcel values: its id formats and placeholders, and
    its council districts."""

    profile: CityProfile
    districts: tuple[int, ...]


def _canonical_ids(ids: pd.Series, profile: CityProfile) -> tuple[pd.Series, pd.Series]:
    """Each id in the city's canonical spelling (NA where it has none) and why not (NA where
    it has). Ids written in the first format as it is (nearly all) are taken by one vectorized
    match; the rest are asked of `registry.city.ids` once per distinct value."""
    present = ids.notna()
    placeholders = {value.strip().casefold() for value in profile.placeholder_ids}
    placeholder = present & (
        ids.str.fullmatch(NO_INFORMATION.pattern).fillna(False)
        | ids.str.casefold().isin(placeholders).fillna(False)
    )
    plain = pd.Series(False, index=ids.index)
    if profile.id_formats:
        plain = (
            present
            & ~placeholder
            & (ids.str.len() <= MAX_ID_LENGTH).fillna(False)
            & ids.str.fullmatch(profile.id_formats[0].pattern).fillna(False)
        )
    canonical = ids.where(plain).astype("string")
    problem = pd.Series(pd.NA, index=ids.index, dtype=object)
    rest = present & ~plain
    if rest.any():

        def ask(values: pd.Series) -> pd.DataFrame:
            found = [canonical_parcel_id(profile, value) for value in values]
            return pd.DataFrame(
                {
                    "canonical": pd.Series(found, dtype="string"),
                    "problem": pd.Series(
                        [
                            id_problem(profile, value) if id_ is None else None
                            for value, id_ in zip(values, found, strict=True)
                        ],
                        dtype=object,
                    ),
                }
            )

        answers = _per_value(ids[rest], ask)
        canonical.loc[rest] = answers["canonical"]
        problem.loc[rest] = answers["problem"]
    return canonical, problem


def _spreadsheet_numbers(column: pa.Array) -> np.ndarray:
    """Where a text column holds a number as a spreadsheet shows a long one (`6.03E+09`)."""
    if not pa.types.is_string(column.type):
        return np.zeros(len(column), dtype=bool)
    found = pc.match_substring_regex(
        pc.utf8_trim_whitespace(column), f"^{SPREADSHEET_NUMBER.pattern}$"
    )
    return found.fill_null(False).to_numpy(zero_copy_only=False)


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
    parsed = [
        Decimal(value) if is_plain else _parse_money(value)
        for value, is_plain in zip(values.tolist(), plain, strict=True)
    ]
    return pd.DataFrame(
        {
            "amount": pd.Series(
                [v if isinstance(v, Decimal) else None for v in parsed], dtype=object
            ),
            "reason": pd.Series([v if isinstance(v, str) else None for v in parsed], dtype=object),
        }
    )


def _parse_money(value: object) -> Decimal | str | None:
    """A Decimal, None for blank, or the reason it is not an amount: read as every importer
    reads a cell ("$1,234.50"), checked as every writer checks money (whole cents, ≥ 0)."""
    if value is None or value is pd.NA:
        return None
    number = parse_number(str(value), money=True)
    if number is None:
        return NOT_AN_AMOUNT
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
    cells = {
        name: pd.Series(pd.arrays.ArrowStringArray(pc.cast(column.take(taken), pa.string())))
        for name, column in batch.columns.items()
    }
    filled = sum((~blank_values(values)).astype(int) for values in cells.values())
    asked = (
        pd.Series(True, index=range(len(positions)))
        if key_column is None
        else (
            (filled <= 1)
            | blank_values(cells[key_column])
            | cells[key_column].str.match(TOTAL_WORD.pattern, case=False).fillna(False)
        )
    )
    found = []
    for index in np.flatnonzero(asked.to_numpy(dtype=bool)):
        row = [
            (name, None if pd.isna(values.iloc[index]) else values.iloc[index])
            for name, values in cells.items()
        ]
        reason = skip_reason(row, {key_column} if key_column else ())
        if reason:
            found.append((int(positions[index]), reason, skipped_text(row)))
    return found


def normalise_batch(
    batch: FeatureBatch, mapping: FieldMapping, rules: CityRules
) -> tuple[pd.DataFrame, pd.DataFrame, list[SkippedRow]]:
    """Typed staging rows, the findings in their values, and the rows that are not parcels
    (left out of both)."""
    numbers = np.arange(batch.first_row, batch.first_row + len(batch))
    not_records = _not_records(batch, mapping.source_of(KEY_FIELD))
    if not_records:
        keep = np.ones(len(batch), dtype=bool)
        keep[[position for position, _, _ in not_records]] = False
        numbers = numbers[keep]
        batch = replace(
            batch,
            geometry=batch.geometry.filter(pa.array(keep)),
            columns={name: column.filter(pa.array(keep)) for name, column in batch.columns.items()},
        )
    frame = pd.DataFrame({"row_number": numbers})
    for target, source in mapping.columns.items():
        frame[target] = _text(batch.columns[source])
    for target, value in mapping.defaults.items():  # for blank cells, never for ruined ones
        frame[target] = (
            frame[target].fillna(value)
            if target in frame
            else pd.Series(value, index=frame.index, dtype="string")
        )
    frame["parcel_id_raw"] = frame.get(KEY_FIELD, pd.NA)
    problems: list[pd.DataFrame] = []

    def flag(
        mask: pd.Series,
        field: str,
        message: str | pd.Series,
        values: pd.Series,
        severity: str = "error",
    ) -> None:
        if mask.any():
            problems.append(_problems(frame, mask, field, message, values, severity))

    _flag_spreadsheet_numbers(batch, mapping, frame, flag)
    if KEY_FIELD in frame:
        raw = frame[KEY_FIELD]
        flag(raw.isna(), KEY_FIELD, "is required", raw)
        canonical, problem = _canonical_ids(raw, rules.profile)
        flag(problem.notna(), KEY_FIELD, problem, raw)
        frame[KEY_FIELD] = canonical
    else:
        flag(
            pd.Series(True, index=frame.index),
            KEY_FIELD,
            "is required, but no column of the file maps to it (use --map)",
            pd.Series(pd.NA, index=frame.index),
        )
    for field in MISSING_REPORTED:
        if field in frame:
            flag(
                frame[field].isna(),
                field,
                "is missing: the record is stored incomplete",
                frame[field],
                "warning",
            )
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
        bad = raw.notna() & ~(number.isin(rules.districts) & (number % 1 == 0))
        flag(bad, "council_district", district_rule(rules.districts), raw)
        frame["council_district"] = number.mask(bad).astype("Int64")
    for field in ("acquisition_date", "disposition_date"):
        if field in frame:
            raw = frame[field]
            parsed = _per_value(raw, _parse_dates)
            flag(
                raw.notna() & parsed.isna(),
                field,
                "is not a date (YYYY-MM-DD or MM/DD/YYYY): "
                "the record is stored without it; the text stays in this report",
                raw,
                "warning",
            )
            frame[field] = parsed
    if "acquisition_date" in frame and "disposition_date" in frame:
        before = pd.Series(
            [
                bool(acquired and disposed and disposed < acquired)
                for acquired, disposed in zip(
                    frame["acquisition_date"], frame["disposition_date"], strict=True
                )
            ],
            index=frame.index,
        )
        flag(
            before,
            "disposition_date",
            "is before the acquisition date",
            frame["disposition_date"].astype("string"),
        )
    for field in ("acquisition_cost", "disposition_proceeds"):
        if field in frame:
            raw = frame[field]
            parsed = _per_value(raw, _parse_amounts)
            for reason in sorted(set(parsed["reason"].dropna())):
                unreadable = reason == NOT_AN_AMOUNT
                flag(
                    parsed["reason"] == reason,
                    field,
                    f"{reason}: the record is stored without it" if unreadable else reason,
                    raw,
                    "warning" if unreadable else "error",
                )
            frame[field] = parsed["amount"]
    frame["geom"] = batch.geometry.to_pylist()
    found = (
        pd.concat(problems, ignore_index=True)
        if problems
        else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    skipped = [
        SkippedRow(batch.first_row + position, reason, text)
        for position, reason, text in not_records
    ]
    return frame, found, skipped


def _flag_spreadsheet_numbers(
    batch: FeatureBatch, mapping: FieldMapping, frame: pd.DataFrame, flag: Callable[..., None]
) -> None:
    """Warn of every cell a spreadsheet turned into scientific notation (`6.03E+09`), in any
    column but the id's (whose check says so itself), and keep no such value: a mapped field is
    left blank rather than given a number that has lost its digits."""
    targets: dict[str, list[str]] = {}
    for target, source in mapping.sources.items():
        if not source.composed and target != KEY_FIELD:
            targets.setdefault(source.label, []).append(target)
    id_column = mapping.source_of(KEY_FIELD)
    composed = {source.label for source in mapping.sources.values() if source.composed}
    for name, column in batch.columns.items():
        if name == id_column or name in composed:
            continue
        damaged = _spreadsheet_numbers(column)
        if not damaged.any():
            continue
        mask = pd.Series(damaged, index=frame.index)
        values = _text(column)
        for target in targets.get(name, []):
            flag(
                mask,
                target,
                f"{_SPREADSHEET_DAMAGE}; the record is stored without it "
                "(correct it in the source)",
                values,
                "warning",
            )
            frame[target] = frame[target].mask(mask)
        if name not in targets:
            flag(
                mask,
                name,
                f"{_SPREADSHEET_DAMAGE} (the column is not imported; correct it in the source)",
                values,
                "warning",
            )
