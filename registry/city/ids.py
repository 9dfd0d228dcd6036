"""Parcel ids as the city writes them: its formats, their other spellings, its placeholders.

A format is shown to people by its name and examples ("LA County APN, e.g. 5056-011-903"); its
regular expression is an internal detail and never appears in a message. Several formats may
be valid at once, and a format may have other spellings of the same id that are regrouped into
its canonical one (AIN `5056011903` is APN `5056-011-903`), so that both name one parcel.

Pure functions: no database. `registry.city.profile` reads the formats into a `CityProfile`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

#: The longest parcel id the registry keeps (parcels.parcel_id is VARCHAR(32)).
MAX_ID_LENGTH = 32
#: An id of nothing but zeros, punctuation and blanks carries no information, in any city.
NO_INFORMATION = re.compile(r"[\s\-_.?#*0]*")
#: A long number as a spreadsheet shows it, in scientific notation: a mantissa with a decimal
#: point (`6.03E+09`, all that is left of 6,030,512,004). Never `267E-17` or `101E-2`, which
#: is how map-lots look.
SPREADSHEET_NUMBER = re.compile(r"[+-]?\d+\.\d+[eE][+-]?\d+")
#: Separators left out of a spelling before it is regrouped into a template.
_SEPARATORS = " \t-./_"
# ASCII only: `２００１` (full-width digits) is not a spelling of 2001 that may stand beside it
_SLOTS = {
    "#": lambda c: c.isascii() and c.isdigit(),
    "@": lambda c: c.isascii() and c.isalpha(),
    "*": lambda c: c.isascii() and c.isalnum(),
}
CONFIGURED_FORMAT = "configured format"


class InvalidFormat(ValueError):
    """A format that cannot be used: a pattern that does not compile, an example it refuses."""


@dataclass(frozen=True)
class IdFormat:
    """A parcel-id format: `pattern` matches the canonical spelling; `canonical`, a template
    (`#` a digit, `@` a letter, `*` either, anything else written as it is), regroups other
    spellings of the same id into it. `examples` is empty only for a format configured by
    REGISTRY_PARCEL_ID_PATTERN, whose examples nobody gave."""

    name: str
    examples: tuple[str, ...]
    pattern: str
    canonical: str | None = None

    def canonical_id(self, value: str) -> str | None:
        """`value` in this format's canonical spelling, or None if it is not of this format."""
        compiled = _compiled(self.pattern)
        if compiled.fullmatch(value):
            return value
        if self.canonical:
            regrouped = regroup(self.canonical, value)
            if regrouped is not None and compiled.fullmatch(regrouped):
                return regrouped
        return None

    def described(self) -> str:
        """How a message names it: "LA County APN, e.g. 5056-011-903"."""
        if not self.examples:
            return "the configured parcel-id format"
        return f"{self.name}, e.g. {_either(self.examples)}"


class HasIdRules(Protocol):
    """What the functions here need of a city profile."""

    @property
    def id_formats(self) -> tuple[IdFormat, ...]: ...

    @property
    def placeholder_ids(self) -> tuple[str, ...]: ...


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


def _either(values: Sequence[str]) -> str:
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def regroup(template: str, value: str) -> str | None:
    """`value` without separators, written into `template` slot by slot; None when the number
    or the kind of its characters does not fit. `regroup("####-###-###", "5056011903")` is
    "5056-011-903"."""
    literals = {char for char in template if char not in _SLOTS}
    compact = [char for char in value if char not in _SEPARATORS and char not in literals]
    slots = [char for char in template if char in _SLOTS]
    if len(compact) != len(slots):
        return None
    filled = iter(compact)
    out = []
    for char in template:
        if char in _SLOTS:
            given = next(filled)
            if not _SLOTS[char](given):
                return None
            out.append(given.upper())
        else:
            out.append(char)
    return "".join(out)


def check_format(id_format: IdFormat) -> None:
    """InvalidFormat unless the pattern compiles and every example is in the format's canonical
    spelling (a person reading "e.g. …" must be able to copy it)."""
    try:
        _compiled(id_format.pattern)
    except re.error as error:
        raise InvalidFormat(
            f"the pattern of {id_format.name} is not a regular expression: {error}"
        ) from error
    if id_format.canonical is not None and not any(c in _SLOTS for c in id_format.canonical):
        raise InvalidFormat(
            f"the canonical template of {id_format.name} has no slot "
            "(# a digit, @ a letter, * either)"
        )
    for example in id_format.examples:
        if id_format.canonical_id(example) != example:
            raise InvalidFormat(
                f"the example {example} is not written in the format {id_format.name} itself"
            )


def is_placeholder(profile: HasIdRules, value: str) -> bool:
    """Whether `value` stands for "no id": one of the city's placeholder ids (any case), or
    nothing but zeros, punctuation and blanks."""
    value = value.strip()
    if NO_INFORMATION.fullmatch(value):
        return True
    folded = value.casefold()
    return any(folded == placeholder.strip().casefold() for placeholder in profile.placeholder_ids)


def canonical_parcel_id(profile: HasIdRules, value: str) -> str | None:
    """The id in its canonical spelling under the first of the city's formats that accepts it
    (as written, or as another spelling of it), or None: a placeholder, or no format's id. A
    city with no format accepts any id that is not a placeholder and fits the column."""
    value = value.strip()
    if not value or len(value) > MAX_ID_LENGTH * 2 or is_placeholder(profile, value):
        return None
    if not profile.id_formats:
        return value if len(value) <= MAX_ID_LENGTH else None
    for id_format in profile.id_formats:
        found = id_format.canonical_id(value)
        if found is not None and len(found) <= MAX_ID_LENGTH:
            return found
    return None


def expected_formats(profile: HasIdRules) -> str:
    """ "LA County APN, e.g. 5056-011-903", or several: "A (e.g. 1) or B (e.g. 2)"."""
    formats = profile.id_formats
    if len(formats) == 1:
        return formats[0].described()
    return _either(
        [
            f"{f.name} (e.g. {_either(f.examples)})"
            if f.examples
            else "the configured parcel-id format"
            for f in formats
        ]
    )


def id_problem(profile: HasIdRules, value: str) -> str | None:
    """Why `value` is not a parcel id of this city, in words that name the expected format and
    its example (never a regular expression); None when it is one (in any of its spellings)."""
    shown = value.strip()
    if not shown:
        return "is required"
    if canonical_parcel_id(profile, shown) is not None:
        return None
    if is_placeholder(profile, shown):
        return f"{shown!r} is a placeholder, not a parcel id"
    if SPREADSHEET_NUMBER.fullmatch(shown):
        return (
            f"{shown!r} looks like a number a spreadsheet turned into scientific notation; "
            "the real id is lost: correct it in the source"
        )
    if not profile.id_formats:
        return f"{shown[: MAX_ID_LENGTH + 8]!r} is longer than {MAX_ID_LENGTH} characters"
    return f"{shown!r} is not a parcel id of this city: expected {expected_formats(profile)}"
