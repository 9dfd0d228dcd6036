"""Turning one batch of raw text values into typed parcel values, vectorized with pandas.

A value that does not parse is a problem for its row and field, never a guess: no date is
assumed, no id is "fixed", nothing is filled in.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pandas as pd

from registry.parcel_import.mapping import REQUIRED_FIELDS, FieldMapping
from registry.parcel_import.source import FeatureBatch
from registry.vocabulary import ASSET_TYPES, DIGITIZATION_STATUSES, LEGAL_INTERESTS, PARCEL_STATUSES

PLACEHOLDER_ID = re.compile(r"^[\s\-_.?#*0]*$|^(n/?a|tbd|unknown|none|null|pending|xxx+)$", re.I)
SCIENTIFIC_ID = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
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


def _text(values: pd.Series) -> pd.Series:
    cleaned = values.astype("string").str.strip()
    return cleaned.mask(cleaned == "")


def _problems(frame: pd.DataFrame, mask: pd.Series, field: str, message: str,
              values: pd.Series) -> pd.DataFrame:
    picked = frame.loc[mask]
    return pd.DataFrame({
        "row_number": picked["row_number"], "record_id": picked["parcel_id_raw"],
        "field": field, "message": message, "value": values.loc[mask].astype("string"),
    })


def _parse_dates(values: pd.Series) -> pd.Series:
    iso = pd.to_datetime(values, format="%Y-%m-%d", errors="coerce")
    us = pd.to_datetime(values, format="%m/%d/%Y", errors="coerce")
    return iso.fillna(us).dt.date


def _parse_money(value: object) -> Decimal | str | None:
    """A Decimal, None for blank, or the reason it is not an amount."""
    if value is None or value is pd.NA:
        return None
    text = re.sub(r"[$,\s]", "", str(value))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return "is not an amount"
    if not amount.is_finite() or amount < 0:
        return "must be zero or more"
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return "has more than two decimals (cents)"
    return amount


def normalise_batch(batch: FeatureBatch, mapping: FieldMapping, parcel_id_pattern: str,
                    council_districts: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed staging rows and the value problems found in them."""
    n = len(batch)
    frame = pd.DataFrame({"row_number": range(batch.first_row, batch.first_row + n)})
    for target, source in mapping.columns.items():
        frame[target] = _text(pd.Series(batch.columns[source], dtype="object"))
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
        keyed = raw.str.lower().str.replace(r"[\s\-/]+", "_", regex=True)
        keyed = keyed.replace(_ENUM_SYNONYMS.get(field, {}))
        bad = raw.notna() & ~keyed.isin(allowed)
        flag(bad, field, f"must be one of: {', '.join(allowed)}", raw)
        frame[field] = keyed.mask(bad)
    if "council_district" in frame:
        raw = frame["council_district"]
        number = pd.to_numeric(raw.str.replace(r"^(cd|district)\s*", "", case=False, regex=True),
                               errors="coerce")
        bad = raw.notna() & ~(number.between(1, council_districts) & (number % 1 == 0))
        flag(bad, "council_district", f"must be a district number from 1 to {council_districts}",
             raw)
        frame["council_district"] = number.mask(bad).astype("Int64")
    for field in ("acquisition_date", "disposition_date"):
        if field in frame:
            raw = frame[field]
            parsed = _parse_dates(raw)
            flag(raw.notna() & parsed.isna(), field,
                 "is not a date (YYYY-MM-DD or MM/DD/YYYY)", raw)
            frame[field] = parsed
    for field in ("acquisition_cost", "disposition_proceeds"):
        if field in frame:
            raw = frame[field]
            parsed = raw.map(_parse_money, na_action="ignore")
            reasons = parsed.map(lambda value: isinstance(value, str))
            for reason in sorted(set(parsed[reasons.fillna(False).astype(bool)])):
                flag(parsed == reason, field, reason, raw)
            frame[field] = parsed.where(~reasons.fillna(False).astype(bool))
    frame["geom_hex"] = [wkb.hex() if wkb else None for wkb in batch.geometry]
    found = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(
        columns=PROBLEM_COLUMNS)
    return frame, found
