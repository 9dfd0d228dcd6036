"""Extension and termination options of a lease, as the API and the `options` JSONB hold them.

Each option: `{"kind": "extension"|"termination", "holder": "lessee"|"lessor"|"both",
"months": n, "notice_months": n|null, "reasonably_certain": bool}`. For an extension, `months` is
its length; for a termination, the month of the term from which the lease can be ended.
`term_months` is the GASB 87 lease term, so it already includes the extensions that are
reasonably certain; the others only lengthen the maximum possible term (the short-term test).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from registry.fields import Problems
from registry.fields import to_bool
from registry.fields import to_choice
from registry.fields import to_int

OPTION_KINDS = ("extension", "termination")
OPTION_HOLDERS = ("lessee", "lessor", "both")
_KEYS = ("kind", "holder", "months", "notice_months", "reasonably_certain")


def to_options(problems: Problems, value: Any) -> list[dict[str, Any]] | None:
    """The options list, each checked; None (with problems) when any is wrong."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        problems.add("options", "must be a list of options")
        return None
    options: list[dict[str, Any]] = []
    before = len(problems)
    for index, item in enumerate(value):
        here = f"options[{index}]"
        if not isinstance(item, Mapping):
            problems.add(
                here,
                "must be an object with kind, holder, months, notice_months, reasonably_certain",
            )
            continue
        extra = sorted(set(item) - set(_KEYS))
        if extra:
            problems.add(here, f"has unknown keys: {', '.join(extra)}")
        option = {
            "kind": to_choice(problems, f"{here}.kind", item.get("kind"), OPTION_KINDS),
            "holder": to_choice(problems, f"{here}.holder", item.get("holder"), OPTION_HOLDERS),
            "months": to_int(problems, f"{here}.months", item.get("months"), minimum=1),
            "notice_months": to_int(
                problems, f"{here}.notice_months", item.get("notice_months"), minimum=0
            ),
            "reasonably_certain": to_bool(
                problems, f"{here}.reasonably_certain", item.get("reasonably_certain")
            )
            or False,
        }
        for key in ("kind", "holder", "months"):
            if item.get(key) is None:
                problems.add(f"{here}.{key}", "is required")
        options.append(option)
    return options if len(problems) == before else None


def extension_months(options: Iterable[Mapping[str, Any]], *, reasonably_certain: bool) -> int:
    """Months of the extension options that are (or are not) reasonably certain."""
    return sum(
        int(option["months"])
        for option in options
        if option.get("kind") == "extension"
        and bool(option.get("reasonably_certain")) is reasonably_certain
    )
