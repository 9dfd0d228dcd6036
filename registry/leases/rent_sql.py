"""A lease's current terms in SQL, the one model every reader of rent and end dates shares:
the KPIs (CST-2..CST-4, REV-1..REV-3, LSE-1, UTL-5), the portfolio export and the critical-dates
page, CSV and feed. Set-based, `:as_of` a bound parameter, no schedule per lease in Python.

`RENT_STREAM_CTES` reproduces the engine's `payment_stream` (registry/leases/accounting/
cashflows.py) for every *measured* lease (one recorded incomplete has no rent here): payment steps
expanded period by period on the engine's grid of periods (`accounting/periods.py`: whole steps
of the frequency from commencement, or, for a lease starting after the 1st and ending on a
month's last day, calendar periods ending with the term), a partial first or last period paying
the full period's amount x its days / the full period's days, rounded half up; advance payments
due on the first day of their period and arrears on the day after it ends, dates from
`add_months` (Postgres clamps to the month's end the same way), free periods at 0, escalation
compounded per completed lease year (counted from commencement to the period's first day) and
rounded once per payment, half up. A recorded modification that changes the payments starts a
new stream on its effective date (its escalation and free periods counting from then, 0 unless
given; its end the new `end_date`, the remaining `term_months` from then, or the end in force)
and cuts the earlier one: what falls due before the date stays, and so does the period the date
falls in when it is paid in arrears. A modification effective inside a payment period leaves that
period's payment as it was billed in the earlier stream, and the new stream starts with the next
period (the engine books the same payment on the same day, as a first period of the new terms
carrying it). The new stream's periods lie on the grid in force (a lease's periods keep their
dates), except that one from a period's first day, with no new `end_date`, of a lease whose
periods have always been whole, steps from its own date as the engine's does. As in the
engine, two modifications on one date apply in the order they were recorded, and a payment
frequency or timing set by one holds for the later ones. A modification that changes only
escalation or free periods (no `payments`) is not followed here. A terminated lease pays nothing
due after its termination.

`ANNUAL_RENT_CTE` is the annual rate at `:as_of`: the rate of the payment period holding the
date (before the first period, the first; after the last, the last) times the payments a year
of that period's frequency; a partial period counts at its full period's rate. Free periods do
not make it 0 (free rent is an abatement, not the rate: it does not make a lease nominal). A lease
not measured has no rate (NULL).

`LEASE_TERM_CTE` is each lease's end after its modifications (the last one giving a new
`end_date`, or `term_months` counted from its effective date) and whether it is in force at
`:as_of`: commenced, not terminated by then, and not past that end unless still occupied (a
holdover). A lease recorded without its dates has no end (NULL) and, without a commencement, is
not in force; `measured` says whether it has rent here.

Rent is the `gross` amount the contract bills, non-lease services included: what the city pays
or is owed, which is what occupancy cost and revenue measure (the GASB measurement, which leaves
services out, is LSE-2's business).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.leases.stored_schedules import STALE_LEASES_SQL

_MONTHS = "CASE {0} WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END"


def _add_months(day: str, months: str) -> str:
    """`add_months` of the engine: Postgres clamps to the month's end the same way."""
    return f"CAST({day} + make_interval(months => CAST({months} AS integer)) AS date)"


def _whole_months(start: str, day: str) -> str:
    """The engine's `whole_months`: the most `n` with add_months(start, n) <= day."""
    guess = (
        f"CAST((date_part('year', {day}) - date_part('year', {start})) * 12 "
        f"+ date_part('month', {day}) - date_part('month', {start}) AS integer)"
    )
    return f"({guess} - CASE WHEN {_add_months(start, guess)} > {day} THEN 1 ELSE 0 END)"


def _grid_index(anchor: str, months: str, day: str) -> str:
    """`k` of the last grid date `add_months(anchor, k * months)` on or before `day`."""
    return f"CAST(floor(CAST({_whole_months(anchor, day)} AS numeric) / {months}) AS integer)"


def _is_whole_term(start: str, ends: str, months: str) -> str:
    """The engine's `is_whole_term`: [start, ends) is whole periods counted from start."""
    whole = _whole_months(start, ends)
    return f"({whole} % {months} = 0 AND {_add_months(start, whole)} = {ends})"


def _default_anchor(start: str, ends: str, months: str) -> str:
    """The engine's `default_anchor`: the term's end for a lease starting after the 1st and
    ending on a month's last day (calendar periods, a partial first period), else the start."""
    return (
        f"CASE WHEN date_part('day', {start}) <> 1 AND date_part('day', {ends}) = 1 "
        f"AND NOT {_is_whole_term(start, ends, months)} THEN {ends} ELSE {start} END"
    )


def _set_earlier(term: str) -> str:
    """`term` as the latest modification before modification `m` set it (else NULL)."""
    return f"""(SELECT e.terms ->> '{term}' FROM lease_modifications e
                 WHERE e.lease_id = m.lease_id AND e.terms ? '{term}'
                   AND (e.effective_date, e.id) < (m.effective_date, m.id)
                 ORDER BY e.effective_date DESC, e.id DESC LIMIT 1)"""


def _term_end_events(measured_only: bool) -> str:
    """Every setting of a lease's term end (the day after its last day): its own, and each
    modification's new `end_date` or remaining `term_months`."""
    return f"""
        SELECT l.id AS lease_id, l.commencement_date AS effective, CAST(0 AS bigint) AS seq,
               l.end_date + 1 AS term_end
          FROM leases l {"WHERE l.measured" if measured_only else ""}
        UNION ALL
        SELECT m.lease_id, m.effective_date, m.id,
               CASE WHEN m.terms ? 'end_date' THEN CAST(m.terms ->> 'end_date' AS date) + 1
                    ELSE {_add_months("m.effective_date", "m.terms ->> 'term_months'")} END
          FROM lease_modifications m
         WHERE m.terms ? 'end_date' OR m.terms ? 'term_months'
    """


# The lease's own payments, then each modification that gives payments, as `segment`s: `starts`
# (its commencement: escalation counts from it), `first_start` (its first period's first day:
# after a date inside a period, the next period), `ends` (the day after the term's last day), the
# grid `anchor` and `regular` (periods have always been whole, stepped from commencement).
_SEGMENT_MONTHS = _MONTHS.format("frequency")


def _segment_ctes(leases: str) -> str:
    """The segments of the measured leases `leases` (a condition on `l`) selects."""
    return f"""
    segment_end AS ({_term_end_events(measured_only=True)}
    ), lease_segment AS (
        SELECT l.id AS lease_id, CAST(0 AS bigint) AS seq, l.commencement_date AS starts,
               l.commencement_date AS first_start, 0 AS lead, l.end_date + 1 AS ends,
               l.payments, CAST(l.escalation_pct AS numeric) AS escalation,
               l.free_periods AS free,
               CAST(l.payment_frequency AS text) AS frequency,
               CAST(l.payment_timing AS text) AS timing
          FROM leases l WHERE l.measured AND {leases}
    ), first_segment AS (
        SELECT s.*, {_default_anchor("s.starts", "s.ends", _SEGMENT_MONTHS)} AS anchor,
               {_is_whole_term("s.starts", "s.ends", _SEGMENT_MONTHS)} AS regular
          FROM lease_segment s
    ), modification AS (
        SELECT m.lease_id, m.id AS seq, m.effective_date AS starts,
               m.terms -> 'payments' AS payments,
               coalesce(CAST(m.terms ->> 'escalation_pct' AS numeric), 0) AS escalation,
               coalesce(CAST(m.terms ->> 'free_periods' AS integer), 0) AS free,
               coalesce(m.terms ->> 'payment_frequency', {_set_earlier("payment_frequency")},
                        l.payment_frequency) AS frequency,
               coalesce(m.terms ->> 'payment_timing', {_set_earlier("payment_timing")},
                        l.payment_timing) AS timing,
               m.terms ? 'end_date' AS dated,
               (SELECT e.term_end FROM segment_end e
                 WHERE e.lease_id = m.lease_id AND (e.effective, e.seq) <= (m.effective_date, m.id)
                 ORDER BY e.effective DESC, e.seq DESC LIMIT 1) AS ends,
               row_number() OVER (PARTITION BY m.lease_id ORDER BY m.effective_date, m.id) AS n
          FROM lease_modifications m JOIN leases l ON l.id = m.lease_id
         WHERE m.terms ? 'payments' AND l.measured AND {leases}
    ), segment AS (
        SELECT f.*, CAST(0 AS bigint) AS n FROM first_segment f
        UNION ALL
        SELECT m.lease_id, m.seq, m.starts,
               CASE WHEN g.inside THEN {_add_months("p.anchor", "(g.k + 1) * pm.months")}
                    ELSE m.starts END,
               CAST(g.inside AS integer), m.ends, m.payments, m.escalation, m.free, m.frequency,
               m.timing,
               CASE WHEN p.regular AND NOT g.inside AND NOT m.dated THEN m.starts
                    WHEN m.frequency = p.frequency THEN p.anchor
                    ELSE {_default_anchor("m.starts", "m.ends", _MONTHS.format("m.frequency"))}
               END,
               p.regular AND NOT g.inside AND NOT m.dated, m.n
          FROM segment p
          JOIN modification m ON m.lease_id = p.lease_id AND m.n = p.n + 1
         CROSS JOIN LATERAL (SELECT {_MONTHS.format("p.frequency")} AS months) AS pm
         CROSS JOIN LATERAL (
               SELECT {_grid_index("p.anchor", "pm.months", "m.starts")} AS k) AS gk
         CROSS JOIN LATERAL (
               SELECT gk.k AS k,
                      {_add_months("p.anchor", "gk.k * pm.months")} <> m.starts AS inside
         ) AS g
    )
"""


def _computed_stream_ctes(leases: str) -> str:
    """The rent stream expanded from the records of the leases `leases` selects, as
    `computed_rent_period` (needs `WITH RECURSIVE`)."""
    return f"""
    {_segment_ctes(leases)}, bounded AS (
        SELECT segment.*, {_SEGMENT_MONTHS} AS months,
               lead(starts) OVER (PARTITION BY lease_id ORDER BY starts, seq) AS until,
               {_grid_index("anchor", _SEGMENT_MONTHS, "first_start")} AS k0
          FROM segment
    ), step AS (
        SELECT b.*, CAST(s.value ->> 'amount' AS numeric) AS amount,
               CAST(s.value ->> 'periods' AS integer) AS periods,
               CAST(sum(CAST(s.value ->> 'periods' AS integer))
                        OVER (PARTITION BY b.lease_id, b.seq ORDER BY s.ordinality)
                    - CAST(s.value ->> 'periods' AS integer) AS integer) AS before
          FROM bounded b, jsonb_array_elements(b.payments) WITH ORDINALITY AS s
    ), grid_period AS (
        SELECT step.lease_id, step.frequency, step.months, step.timing, step.until,
               step.lead + step.before + k AS idx, step.free, step.amount, step.escalation,
               step.starts, step.regular, step.before + k AS j,
               greatest(step.first_start, x.full_start) AS period_start,
               least(x.full_end, step.ends) AS period_end, x.full_start, x.full_end
          FROM step
         CROSS JOIN LATERAL generate_series(0, step.periods - 1) AS k
         CROSS JOIN LATERAL (
               SELECT {_add_months("step.anchor", "(step.k0 + step.before + k) * step.months")}
                      AS full_start,
                      {_add_months("step.anchor", "(step.k0 + step.before + k + 1) * step.months")}
                      AS full_end
         ) AS x
    ), computed_rent_period AS (
        SELECT g.lease_id, g.frequency, g.months, g.period_start, y.due, y.rate,
               CASE WHEN g.idx < g.free THEN 0
                    WHEN g.period_start <> g.full_start OR g.period_end <> g.full_end
                    THEN round(y.rate * (g.period_end - g.period_start)
                               / (g.full_end - g.full_start), 2)
                    ELSE y.rate END AS rent
          FROM grid_period g
         CROSS JOIN LATERAL (
               SELECT CASE WHEN g.timing = 'arrears' THEN g.period_end
                           ELSE g.period_start END AS due,
                      round(g.amount * power(1 + g.escalation / 100, CAST(
                            CASE WHEN g.regular THEN g.j * g.months / 12
                                 ELSE {_whole_months("g.starts", "g.period_start")} / 12 END
                            AS numeric)), 2) AS rate
         ) AS y
          JOIN leases l ON l.id = g.lease_id
         WHERE (g.until IS NULL OR y.due < g.until
                OR (g.timing = 'arrears' AND g.period_start < g.until))
           AND (l.terminated_on IS NULL OR y.due <= l.terminated_on)
    )
"""


# Starts with `RECURSIVE` (the segments are chained): put it first, right after `WITH`. The
# stream of a lease whose schedules are stored is read from `lease_rent_periods` (written with
# them, from `STORE_RENT_PERIODS_SQL`: the same expansion); only the stale leases' is expanded
# here, so the figures are the same whether the store is up to date or not.
RENT_STREAM_CTES = f"""RECURSIVE
    stale_lease AS ({STALE_LEASES_SQL}),
    {_computed_stream_ctes("l.id IN (SELECT lease_id FROM stale_lease)")},
    rent_period AS (
        SELECT lease_id, frequency, months, period_start, due, rate, rent
          FROM lease_rent_periods
         WHERE lease_id NOT IN (SELECT lease_id FROM stale_lease)
        UNION ALL
        SELECT lease_id, frequency, months, period_start, due, rate, rent
          FROM computed_rent_period
    ), rent_due AS (
        SELECT lease_id, due, rent FROM rent_period
    )
"""

#: The rent stream of the leases `:rent_leases` (ids) into `lease_rent_periods`.
STORE_RENT_PERIODS_SQL = f"""
    WITH RECURSIVE {_computed_stream_ctes("l.id = ANY(:rent_leases)")}
    INSERT INTO lease_rent_periods (lease_id, frequency, months, period_start, due, rate, rent)
    SELECT lease_id, frequency, months, period_start, due, rate, rent FROM computed_rent_period
"""

# Needs RENT_STREAM_CTES before it. One row per lease: `rent` (0 for a measured lease with no
# payment periods, e.g. terminated before its first; NULL for one not measured) and the
# `payment_frequency` of that period.
# A stored lease's period is found by two index probes on (lease_id, period_start), the stale
# leases' among their expanded periods: sorting every period of every lease was most of LSE-1.
ANNUAL_RENT_CTE = """
    annual_rent AS (
        SELECT l.id AS lease_id, CASE WHEN l.measured THEN coalesce(r.rent, 0) END AS rent,
               coalesce(r.frequency, l.payment_frequency) AS payment_frequency
          FROM leases l LEFT JOIN (
              (SELECT DISTINCT ON (lease_id) lease_id, frequency, 12 / months * rate AS rent
                 FROM computed_rent_period
                ORDER BY lease_id, (period_start <= :as_of) DESC,
                         CASE WHEN period_start <= :as_of THEN period_start END DESC,
                         period_start)
              UNION ALL
              SELECT s.lease_id, x.frequency, 12 / x.months * x.rate
                FROM lease_measurements s CROSS JOIN LATERAL (
                    SELECT c.frequency, c.months, c.rate FROM (
                        (SELECT p.frequency, p.months, p.rate, 0 AS pick
                           FROM lease_rent_periods p
                          WHERE p.lease_id = s.lease_id AND p.period_start <= :as_of
                          ORDER BY p.period_start DESC LIMIT 1)
                        UNION ALL
                        (SELECT p.frequency, p.months, p.rate, 1 AS pick
                           FROM lease_rent_periods p WHERE p.lease_id = s.lease_id
                          ORDER BY p.period_start LIMIT 1)
                    ) c ORDER BY c.pick LIMIT 1
                ) x
               WHERE s.measurement = 0 AND s.lease_id NOT IN (SELECT lease_id FROM stale_lease)
          ) r ON r.lease_id = l.id
    )
"""

# One row per lease: `ends` (after modifications; `terminated_on` is the lease's own column),
# `in_force` at :as_of, holdovers included, and `measured`.
LEASE_TERM_CTE = f"""
    term_end_event AS ({_term_end_events(measured_only=False)}
    ), lease_term AS (
        SELECT l.id AS lease_id, l.measured, e.term_end - 1 AS ends,
               coalesce(l.commencement_date <= :as_of
                        AND (e.term_end - 1 >= :as_of OR l.occupied)
                        AND (l.terminated_on IS NULL OR l.terminated_on > :as_of),
                        false) AS in_force
          FROM leases l LEFT JOIN (
              SELECT DISTINCT ON (lease_id) lease_id, term_end FROM term_end_event
               ORDER BY lease_id, effective DESC NULLS LAST, seq DESC
          ) e ON e.lease_id = l.id
    )
"""

# The whole model: rent_due / rent_period, annual_rent and lease_term, for a WITH clause.
CURRENT_TERMS_CTES = f"{RENT_STREAM_CTES}, {ANNUAL_RENT_CTE}, {LEASE_TERM_CTE}"


def without_jit(session: Session) -> None:
    """Call before a statement using these CTEs: JIT stays off for the rest of the transaction.
    The planner cannot see that a lease has a few payment steps (it guesses 100 per JSON array
    and 1,000 periods per step), expects about a million rows and compiles the plan, which takes
    ~0.6 s a statement on the sample where running it takes ~10 ms."""
    session.execute(text("SET LOCAL jit = off"))
