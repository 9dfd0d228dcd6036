"""A lease's current terms in SQL, the one model every reader of rent and end dates shares:
the KPIs (CST-2..CST-4, REV-1..REV-3, LSE-1, UTL-5), the portfolio export and the critical-dates
page, CSV and feed. Set-based, `:as_of` a bound parameter, no schedule per lease in Python.

`RENT_STREAM_CTES` reproduces the engine's `payment_stream` (registry/leases/accounting/
cashflows.py): payment steps expanded period by period, advance payments due on the first day of
their period and arrears on the day after it ends, dates from `add_months` (Postgres clamps to
the month's end the same way), free periods at 0, escalation compounded per completed lease year
and rounded once per payment, half up. A recorded modification that changes the payments starts
a new stream on its effective date (its escalation and free periods counting from then, 0 unless
given) and cuts the earlier one: what falls due before the date (arrears: on it) stays. A
terminated lease pays nothing due after its termination. As in the engine, two modifications on
one date apply in the order they were recorded, and a payment frequency or timing set by one
holds for the later ones. A modification that changes only escalation or free periods (no
`payments`) is not followed here.

`ANNUAL_RENT_CTE` is the annual rate at `:as_of`: the rate of the payment period holding the
date (before the first period, the first; after the last, the last) times the payments a year
of that period's frequency. Free periods do not make it 0 (free rent is an abatement, not the
rate: it does not make a lease nominal).

`LEASE_TERM_CTE` is each lease's end after its modifications (the last one giving
`term_months`, counted from its effective date) and whether it is in force at `:as_of`:
commenced, not terminated by then, and not past that end unless still occupied (a holdover).

Rent is the `gross` amount the contract bills, non-lease services included: what the city pays
or is owed, which is what occupancy cost and revenue measure (the GASB measurement, which leaves
services out, is LSE-2's business).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_MONTHS = "CASE {0} WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END"


def _set_earlier(term: str) -> str:
    """`term` as the latest modification before modification `m` set it (else NULL)."""
    return f"""(SELECT e.terms ->> '{term}' FROM lease_modifications e
                 WHERE e.lease_id = m.lease_id AND e.terms ? '{term}'
                   AND (e.effective_date, e.id) < (m.effective_date, m.id)
                 ORDER BY e.effective_date DESC, e.id DESC LIMIT 1)"""


RENT_STREAM_CTES = f"""
    segment AS (
        SELECT l.id AS lease_id, 0 AS seq, l.commencement_date AS starts, l.payments,
               l.escalation_pct AS escalation, l.free_periods AS free,
               l.payment_frequency AS frequency, l.payment_timing AS timing
          FROM leases l
        UNION ALL
        SELECT m.lease_id, m.id, m.effective_date, m.terms -> 'payments',
               coalesce(CAST(m.terms ->> 'escalation_pct' AS numeric), 0),
               coalesce(CAST(m.terms ->> 'free_periods' AS integer), 0),
               coalesce(m.terms ->> 'payment_frequency', {_set_earlier("payment_frequency")},
                        l.payment_frequency),
               coalesce(m.terms ->> 'payment_timing', {_set_earlier("payment_timing")},
                        l.payment_timing)
          FROM lease_modifications m JOIN leases l ON l.id = m.lease_id
         WHERE m.terms ? 'payments'
    ), bounded AS (
        SELECT segment.*, {_MONTHS.format("frequency")} AS months,
               lead(starts) OVER (PARTITION BY lease_id ORDER BY starts, seq) AS until
          FROM segment
    ), step AS (
        SELECT b.*, CAST(s.value ->> 'amount' AS numeric) AS amount,
               CAST(s.value ->> 'periods' AS integer) AS periods,
               CAST(sum(CAST(s.value ->> 'periods' AS integer))
                        OVER (PARTITION BY b.lease_id, b.seq ORDER BY s.ordinality)
                    - CAST(s.value ->> 'periods' AS integer) AS integer) AS before
          FROM bounded b, jsonb_array_elements(b.payments) WITH ORDINALITY AS s
    ), rent_period AS (
        SELECT step.lease_id, step.frequency, step.months, x.period_start, x.due, x.rate,
               CASE WHEN x.idx < step.free THEN 0 ELSE x.rate END AS rent
          FROM step
         CROSS JOIN LATERAL generate_series(0, step.periods - 1) AS k
         CROSS JOIN LATERAL (
               SELECT step.before + k AS idx,
                      CAST(step.starts + make_interval(months => (step.before + k) * step.months)
                           AS date) AS period_start,
                      CAST(step.starts + make_interval(months => (step.before + k
                           + (step.timing = 'arrears')::int) * step.months) AS date) AS due,
                      round(step.amount * power(1 + step.escalation / 100,
                            CAST((step.before + k) * step.months / 12 AS numeric)), 2) AS rate
         ) AS x
          JOIN leases l ON l.id = step.lease_id
         WHERE (step.until IS NULL OR x.due < step.until
                OR (step.timing = 'arrears' AND x.due = step.until))
           AND (l.terminated_on IS NULL OR x.due <= l.terminated_on)
    ), rent_due AS (
        SELECT lease_id, due, rent FROM rent_period
    )
"""

# Needs RENT_STREAM_CTES before it. One row per lease: `rent` (0 for a lease with no payment
# periods, e.g. terminated before its first) and the `payment_frequency` of that period.
ANNUAL_RENT_CTE = """
    annual_rent AS (
        SELECT l.id AS lease_id, coalesce(r.rent, 0) AS rent,
               coalesce(r.frequency, l.payment_frequency) AS payment_frequency
          FROM leases l LEFT JOIN (
              SELECT DISTINCT ON (lease_id) lease_id, frequency, 12 / months * rate AS rent
                FROM rent_period
               ORDER BY lease_id, (period_start <= :as_of) DESC,
                        CASE WHEN period_start <= :as_of THEN period_start END DESC,
                        period_start
          ) r ON r.lease_id = l.id
    )
"""

# One row per lease: `ends` (after modifications; `terminated_on` is the lease's own column) and
# `in_force` at :as_of, holdovers included.
LEASE_TERM_CTE = """
    lease_term AS (
        SELECT l.id AS lease_id, coalesce(m.ends, l.end_date) AS ends,
               (l.commencement_date <= :as_of
                AND (coalesce(m.ends, l.end_date) >= :as_of OR l.occupied)
                AND (l.terminated_on IS NULL OR l.terminated_on > :as_of)) AS in_force
          FROM leases l LEFT JOIN (
              SELECT DISTINCT ON (lease_id) lease_id,
                     CAST(effective_date + make_interval(
                          months => CAST(terms ->> 'term_months' AS integer))
                          - interval '1 day' AS date) AS ends
                FROM lease_modifications
               WHERE terms ? 'term_months'
               ORDER BY lease_id, effective_date DESC, id DESC
          ) m ON m.lease_id = l.id
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
