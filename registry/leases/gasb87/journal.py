"""GASB 87 journal entries for the general ledger: a fiscal year, month by month, or one month.

Every amount is a *difference of two states* of the engine (`LeaseHistory.state` at the end of
the day before the period and at its last day, read from the stored schedules in SQL by
`registry.leases.gasb87.figures`), the very figures the GASB 87 report of the year is made of.
So the months of a year add up, to the cent, to the report's interest, amortization or lease
revenue, payments and balance movements, whatever the rounding inside the schedule, and each
lease's entries balance by construction (each entry is debits = credits).

Per lease and month (a lessee, city leases in / a lessor, city leases out):
- Commencement: Dr right-to-use asset / Cr lease liability, the difference (prepaid rent, initial
  direct costs less incentives) to cash. Lessor: Dr lease receivable / Cr deferred inflow of
  resources, the difference (rent received in advance) from cash.
- Interest: Dr interest expense / Cr interest payable. Lessor: Dr interest receivable / Cr
  interest revenue (accrued by day, as the report does).
- Payments due: Dr lease liability (principal) and interest payable / Cr cash. Lessor: Dr cash /
  Cr lease receivable and interest receivable.
- Amortization: Dr amortization expense / Cr accumulated amortization. Lessor: Dr deferred
  inflow / Cr lease revenue.
- Remeasurement (a modification in the month): what moves the balances beyond the entries above,
  to the liability (receivable), the asset (deferred inflow) and interest payable (receivable),
  with the difference a gain or loss.
- Short-term leases (GASB 87 ¶16, ¶46): Dr short-term lease expense / Cr cash; lessor Dr cash /
  Cr short-term lease revenue.

The account codes are the city's: `REGISTRY_JOURNAL_ACCOUNTS` (e.g. `lease_liability=2310-000,
cash=1010`) replaces the defaults named here, account by account.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from registry.cells import spreadsheet_safe
from registry.fiscal_years import ONE_DAY
from registry.fiscal_years import fiscal_year_bounds
from registry.leases.accounting.balances import LeaseState
from registry.leases.accounting.money import ZERO
from registry.leases.accounting.money import money_str
from registry.leases.gasb87.figures import LeaseFigures
from registry.leases.gasb87.figures import lease_figures
from registry.leases.gasb87.report import Gasb87Report
from registry.xlsx_stream import SheetData
from registry.xlsx_stream import xlsx_bytes

#: account key -> (default code, name). Codes follow no chart in particular: set the city's.
DEFAULT_ACCOUNTS: dict[str, tuple[str, str]] = {
    "cash": ("1010", "Cash"),
    "right_to_use_asset": ("1610", "Right-to-use lease asset"),
    "accumulated_amortization": ("1619", "Accumulated amortization, right-to-use lease asset"),
    "lease_liability": ("2310", "Lease liability"),
    "interest_payable": ("2150", "Interest payable, leases"),
    "interest_expense": ("6510", "Interest expense, leases"),
    "amortization_expense": ("6520", "Amortization expense, right-to-use lease asset"),
    "short_term_lease_expense": ("6530", "Short-term lease expense"),
    "lease_receivable": ("1320", "Lease receivable"),
    "interest_receivable": ("1330", "Interest receivable, leases"),
    "deferred_inflow": ("2610", "Deferred inflow of resources, leases"),
    "interest_revenue": ("4610", "Interest revenue, leases"),
    "lease_revenue": ("4620", "Lease revenue"),
    "short_term_lease_revenue": ("4630", "Short-term lease revenue"),
    "remeasurement_gain_loss": ("7990", "Gain or loss on lease remeasurement"),
}
MAX_CODE_LENGTH = 40


def parse_accounts(value: str | None) -> dict[str, tuple[str, str]]:
    """`REGISTRY_JOURNAL_ACCOUNTS`: `key=code` pairs separated by commas or semicolons; the keys
    given replace their default codes. Errors name the setting and the key, in plain words."""
    accounts = dict(DEFAULT_ACCOUNTS)
    for part in (value or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        key, equals, code = part.partition("=")
        key, code = key.strip().lower(), code.strip()
        if key not in accounts:
            raise ValueError(
                f"REGISTRY_JOURNAL_ACCOUNTS: {key!r} is not an account of the journal "
                f"(use {', '.join(sorted(accounts))})"
            )
        if not equals or not code or len(code) > MAX_CODE_LENGTH or not code.isprintable():
            raise ValueError(f"REGISTRY_JOURNAL_ACCOUNTS: give {key} a code, as in {key}=2310")
        accounts[key] = (code, accounts[key][1])
    _refuse_shared_codes(accounts)
    return accounts


#: Accounts that may share one code: a city may post all its lease revenue (or expense) to one
#: account. Any other shared code posts two different things as one: cash and the liability on
#: 2310 would net each payment away, and the journal would no longer tie to the GASB 87 report.
_MAY_SHARE = (
    frozenset({"interest_revenue", "lease_revenue", "short_term_lease_revenue"}),
    frozenset({"interest_expense", "amortization_expense", "short_term_lease_expense"}),
)


def _refuse_shared_codes(accounts: Mapping[str, tuple[str, str]]) -> None:
    by_code: dict[str, list[str]] = {}
    for key, (code, _name) in accounts.items():
        by_code.setdefault(code, []).append(key)
    for code, keys in by_code.items():
        if len(keys) > 1 and not any(set(keys) <= group for group in _MAY_SHARE):
            names = " and ".join(accounts[key][1].lower() for key in keys)
            raise ValueError(
                f"REGISTRY_JOURNAL_ACCOUNTS: {names} would all post to {code}; give each its "
                "own code (only revenue accounts, or expense accounts, may share one)"
            )


@dataclass(frozen=True)
class JournalLine:
    """One debit or credit; `entry` numbers the balanced entry it belongs to."""

    entry: str
    date: dt.date
    fiscal_year: int
    fiscal_period: int
    lease_number: str
    direction: str
    fund_type: str
    department: str | None
    account: str
    account_code: str
    account_name: str
    debit: Decimal
    credit: Decimal
    memo: str


@dataclass(frozen=True)
class Journal:
    fiscal_year: int
    months: tuple[int, ...]  # fiscal periods covered, 1 = the fiscal year's first month
    start: dt.date
    end: dt.date
    lines: tuple[JournalLine, ...]

    def totals(self, account: str) -> tuple[Decimal, Decimal]:
        """Debits and credits of one account over the journal."""
        debit = sum((line.debit for line in self.lines if line.account == account), ZERO)
        credit = sum((line.credit for line in self.lines if line.account == account), ZERO)
        return debit, credit

    def unbalanced_entries(self) -> list[str]:
        """Entries whose debits and credits differ: always empty (checked by the tests)."""
        sums: dict[str, Decimal] = {}
        for line in self.lines:
            sums[line.entry] = sums.get(line.entry, ZERO) + line.debit - line.credit
        return sorted(entry for entry, difference in sums.items() if difference)


def fiscal_months(fiscal_year: int, start_month: int) -> list[tuple[int, dt.date, dt.date]]:
    """(fiscal period, first day, last day) of each month of the fiscal year."""
    start, _end = fiscal_year_bounds(fiscal_year, start_month)
    months = []
    for index in range(12):
        year, month = divmod(start.month - 1 + index, 12)
        first = dt.date(start.year + year, month + 1, 1)
        following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        months.append((index + 1, first, following - ONE_DAY))
    return months


def journal_entries(
    session: Session,
    fiscal_year: int,
    start_month: int = 7,
    *,
    month: int | None = None,
    accounts: Mapping[str, tuple[str, str]] = DEFAULT_ACCOUNTS,
) -> Journal:
    """The journal of `fiscal_year`, or of its `month`-th month (1 = the first month of the
    fiscal year), for every measured lease; leases recorded incomplete are left out, as in the
    GASB 87 report."""
    periods = fiscal_months(fiscal_year, start_month)
    if month is not None:
        if not 1 <= month <= 12:
            raise ValueError("month must be a fiscal period from 1 to 12")
        periods = [periods[month - 1]]
    lines: list[JournalLine] = []
    days = [periods[0][1] - ONE_DAY, *(last for _period, _first, last in periods)]
    for figures in lease_figures(session, days):
        record = figures.record
        for period, first, last in periods:
            if figures.commencement_date > last:
                continue
            lease = _LeaseContext(
                str(record["lease_number"]),
                figures.direction,
                str(record.get("fund_type") or "governmental"),
                record.get("department_code"),
                fiscal_year,
                period,
                last,
                accounts,
            )
            lines += lease.lines(figures, first, last)
    lines.sort(key=lambda line: (line.date, line.lease_number, line.entry))
    return Journal(
        fiscal_year,
        tuple(period for period, _first, _last in periods),
        periods[0][1],
        periods[-1][2],
        tuple(lines),
    )


@dataclass(frozen=True)
class _LeaseContext:
    lease_number: str
    direction: str
    fund_type: str
    department: str | None
    fiscal_year: int
    period: int
    date: dt.date
    accounts: Mapping[str, tuple[str, str]]

    def lines(self, figures: LeaseFigures, first: dt.date, last: dt.date) -> list[JournalLine]:
        before, after = figures.state(first - ONE_DAY), figures.state(last)
        commenced = first <= figures.commencement_date <= last
        entries: list[list[tuple[str, Decimal, str]]] = []
        if figures.base.short_term and figures.latest.short_term:
            entries.append(self._short_term(after.payments - before.payments))
        else:
            entries += self._measured(figures, before, after, commenced)
        out: list[JournalLine] = []
        number = 0
        for entry in entries:
            if not any(amount for _account, amount, _memo in entry):
                continue
            number += 1
            name = f"{self.lease_number}/FY{self.fiscal_year}-{self.period:02d}/{number}"
            for account, amount, memo in entry:
                if amount:
                    out.append(self._line(name, account, amount, memo))
        return out

    def _line(self, entry: str, account: str, amount: Decimal, memo: str) -> JournalLine:
        """`amount` > 0 is a debit, < 0 a credit."""
        code, name = self.accounts[account]
        return JournalLine(
            entry=entry,
            date=self.date,
            fiscal_year=self.fiscal_year,
            fiscal_period=self.period,
            lease_number=self.lease_number,
            direction=self.direction,
            fund_type=self.fund_type,
            department=self.department,
            account=account,
            account_code=code,
            account_name=name,
            debit=amount if amount > 0 else ZERO,
            credit=-amount if amount < 0 else ZERO,
            memo=f"Lease {self.lease_number}: {memo}",
        )

    def _short_term(self, payments: Decimal) -> list[tuple[str, Decimal, str]]:
        if self.direction == "in":
            return [
                ("short_term_lease_expense", payments, "short-term lease payments"),
                ("cash", -payments, "short-term lease payments"),
            ]
        return [
            ("cash", payments, "short-term lease payments received"),
            ("short_term_lease_revenue", -payments, "short-term lease payments received"),
        ]

    def _measured(
        self, figures: LeaseFigures, before: LeaseState, after: LeaseState, commenced: bool
    ) -> list[list[tuple[str, Decimal, str]]]:
        lessee = self.direction == "in"
        initial = figures.base.initial_measurement if commenced else ZERO
        opening = figures.base.opening_recognizable if commenced else ZERO
        interest = after.interest - before.interest
        payments = after.payments - before.payments
        principal = after.principal - before.principal
        recognized = after.recognized - before.recognized
        paid_interest = payments - principal
        # what the balances moved beyond the entries below: a remeasurement in the period
        balance_left = (after.balance - before.balance) - (initial - principal)
        carrying_left = (after.carrying - before.carrying) - (opening - recognized)
        accrued_left = (after.accrued_interest - before.accrued_interest) - (
            interest - paid_interest
        )
        gain = balance_left + accrued_left - carrying_left  # lessee: credit side minus debit
        if lessee:
            return [
                [
                    ("right_to_use_asset", opening, "commencement"),
                    ("lease_liability", -initial, "commencement"),
                    ("cash", initial - opening, "commencement: paid at or before it"),
                ],
                [
                    ("interest_expense", interest, "interest accrued"),
                    ("interest_payable", -interest, "interest accrued"),
                ],
                [
                    ("lease_liability", principal, "payments due: principal"),
                    ("interest_payable", paid_interest, "payments due: interest"),
                    ("cash", -payments, "payments due"),
                ],
                [
                    ("amortization_expense", recognized, "amortization"),
                    ("accumulated_amortization", -recognized, "amortization"),
                ],
                [
                    ("right_to_use_asset", carrying_left, "remeasurement"),
                    ("lease_liability", -balance_left, "remeasurement"),
                    ("interest_payable", -accrued_left, "remeasurement"),
                    ("remeasurement_gain_loss", gain, "remeasurement gain or loss"),
                ],
            ]
        return [
            [
                ("lease_receivable", initial, "commencement"),
                ("deferred_inflow", -opening, "commencement"),
                ("cash", opening - initial, "commencement: received at or before it"),
            ],
            [
                ("interest_receivable", interest, "interest accrued"),
                ("interest_revenue", -interest, "interest accrued"),
            ],
            [
                ("cash", payments, "payments due"),
                ("lease_receivable", -principal, "payments due: principal"),
                ("interest_receivable", -paid_interest, "payments due: interest"),
            ],
            [
                ("deferred_inflow", recognized, "lease revenue recognized"),
                ("lease_revenue", -recognized, "lease revenue recognized"),
            ],
            [
                ("lease_receivable", balance_left, "remeasurement"),
                ("interest_receivable", accrued_left, "remeasurement"),
                ("deferred_inflow", -carrying_left, "remeasurement"),
                (
                    "remeasurement_gain_loss",
                    carrying_left - balance_left - accrued_left,
                    "remeasurement gain or loss",
                ),
            ],
        ]


CSV_COLUMNS = (
    "entry", "date", "fiscal_year", "fiscal_period", "lease_number", "direction", "fund_type",
    "department", "account_code", "account_name", "debit", "credit", "memo",
)  # fmt: skip


def _row(line: JournalLine) -> list[str]:
    return [
        spreadsheet_safe(line.entry), line.date.isoformat(), str(line.fiscal_year),
        str(line.fiscal_period), spreadsheet_safe(line.lease_number), line.direction,
        line.fund_type, spreadsheet_safe(line.department or ""),
        spreadsheet_safe(line.account_code), line.account_name,
        money_str(line.debit) if line.debit else "", money_str(line.credit) if line.credit else "",
        spreadsheet_safe(line.memo),
    ]  # fmt: skip


def journal_csv(journal: Journal) -> str:
    """RFC 4180 CSV for a general-ledger import: one line per debit or credit."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_row(line) for line in journal.lines)
    return buffer.getvalue()


def account_totals(journal: Journal) -> Iterator[tuple[str, str, Decimal, Decimal]]:
    """(code, name, debits, credits) of every account used, in code order: the trial balance
    of the journal, which foots to zero."""
    used: dict[tuple[str, str], list[Decimal]] = {}
    for line in journal.lines:
        sums = used.setdefault((line.account_code, line.account_name), [ZERO, ZERO])
        sums[0] += line.debit
        sums[1] += line.credit
    for (code, name), (debit, credit) in sorted(used.items()):
        yield code, name, debit, credit


def _cells(line: JournalLine) -> list[object]:
    return [
        line.entry, line.date, line.fiscal_year, line.fiscal_period, line.lease_number,
        line.direction, line.fund_type, line.department or "", line.account_code,
        line.account_name, line.debit or None, line.credit or None, line.memo,
    ]  # fmt: skip


def journal_workbook(journal: Journal, tie_out: Iterable[tuple[str, Decimal, Decimal]]) -> bytes:
    """XLSX: the journal lines, the trial balance by account, and the tie-out to the GASB 87
    report (`tie_out`: what, the journal's figure, the report's figure).

    Written by the streaming writer (`registry.xlsx_stream`), not openpyxl: a year of 5,000
    leases is some 340,000 lines, which openpyxl builds cell by cell in minutes. Text goes in as
    text, never as a formula, whatever it starts with."""
    money = "#,##0.00"
    lines = SheetData(
        "Journal",
        (_cells(line) for line in journal.lines),
        header=CSV_COLUMNS,
        number_formats=[None] * 10 + [money, money],
        widths=[30, 11, 8, 8, 16, 8, 14, 12, 12, 44, 14, 14, 50],
        freeze_header=True,
    )
    balance = SheetData(
        "Trial balance",
        (
            [code, name, debit, credit, debit - credit]
            for code, name, debit, credit in account_totals(journal)
        ),
        header=("Account code", "Account", "Debits", "Credits", "Net"),
        number_formats=[None, None, money, money, money],
        widths=[14, 52, 16, 16, 16],
    )
    ties = SheetData(
        "Tie-out to GASB 87",
        ([what, ours, report, ours - report] for what, ours, report in tie_out),
        header=("Figure", "Journal", "GASB 87 report", "Difference"),
        number_formats=[None, money, money, money],
        widths=[40, 16, 16, 16],
    )
    return xlsx_bytes([lines, balance, ties])


def tie_out(journal: Journal, report: Gasb87Report) -> list[tuple[str, Decimal, Decimal]]:
    """(figure, the journal's amount, the GASB 87 report's) for a whole fiscal year: each
    account's net movement against the report's figure of the same meaning."""

    def net(account: str, sign: int = 1) -> Decimal:
        debit, credit = journal.totals(account)
        return (debit - credit) * sign

    lessee, lessor = report.group("in").amounts, report.group("out").amounts
    return [
        ("Lessee: interest expense", net("interest_expense"), lessee.interest),
        ("Lessee: amortization", net("amortization_expense"), lessee.recognized),
        (
            "Lessee: change in lease liability",
            net("lease_liability", -1),
            lessee.closing_balance - lessee.opening_balance,
        ),
        (
            "Lessee: short-term lease expense",
            net("short_term_lease_expense"),
            lessee.short_term_payments,
        ),
        ("Lessor: interest revenue", net("interest_revenue", -1), lessor.interest),
        ("Lessor: lease revenue", net("lease_revenue", -1), lessor.recognized),
        (
            "Lessor: change in lease receivable",
            net("lease_receivable"),
            lessor.closing_balance - lessor.opening_balance,
        ),
        (
            "Lessor: short-term lease revenue",
            net("short_term_lease_revenue", -1),
            lessor.short_term_payments,
        ),
    ]
