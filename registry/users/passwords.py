"""What a password must be: long enough, not one of the passwords attackers try first.

The list of common and breached passwords ships with the code (`common_passwords.txt`), so the
check needs no network. A password is refused when it is on the list, or is a listed one with
digits or symbols added at either end (`dragon2024!!` is `dragon`), or is one character repeated,
a short run repeated (`abcabcabcabc`), or the user's email or its name part.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 12
# Hashing cost grows with the input; no human types more than this.
MAX_PASSWORD_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# A repeated run this short or shorter is a pattern, not a password (`abab...`, `123123...`).
_SHORTEST_RUN_THAT_COUNTS = 5
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why `password` is refused (a message to show the user), or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    folded = password.strip().casefold()
    if len(set(folded)) == 1:
        return "must not be one character repeated"
    if _is_a_short_run_repeated(folded):
        return "must not be a few characters repeated"
    if email:
        address = email.strip().casefold()
        if folded in {address, address.partition("@")[0]}:
            return "must not be your email address"
    if _is_common(folded):
        return (
            "is too common: it is on a list of passwords that attackers try first; "
            "choose a longer phrase of unrelated words"
        )
    return None


def common_passwords() -> frozenset[str]:
    return _load_common_passwords()


def _is_common(folded: str) -> bool:
    listed = _load_common_passwords()
    core = _DECORATION.sub("", folded)
    compact = re.sub(r"\s+", "", folded)
    return folded in listed or compact in listed or (len(core) >= 4 and core in listed)


def _is_a_short_run_repeated(folded: str) -> bool:
    for size in range(2, _SHORTEST_RUN_THAT_COUNTS + 1):
        run = folded[:size]
        if (run * (len(folded) // size + 1))[: len(folded)] == folded:
            return True
    return False


@cache
def _load_common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line and not line.startswith("#"))
