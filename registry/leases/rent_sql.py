"""Lease payment streams in SQL, so the rent KPIs (CST-2..CST-4, REV-1, REV-2, LSE-1) stay
set-based instead of computing a schedule per lease in Python.

`RENT_STREAM_CTES` reproduces the engine's `payment_stream` (registry/leases/accounting/
cashflows.py): payment steps expanded period by period, advance payments due on the first day of
their period and arrears on the day after it ends, dates from `add_months` (Postgres clamps to
the month's end the same way), free periods at 0, escalation compounded per completed lease year
and rounded once per payment, half up. A recorded modification that changes the payments starts
a new stream on its effective date (its escalation and free periods counting from then, 0 unless
given) and cuts the earlier one: what falls due before the date (arrears: on it) stays. A
terminated lease pays nothing due after its termination.

Rent is the `gross` amount the contract bills, non-lease services included: what the city pays
or is owed, which is what occupancy cost and revenue measure (the GASB measurement, which leaves
services out, is LSE-2's business).
"""

from __future__ import annotations

_MONTHS = "CASE {0} WHEN 'quarterly' THEN 3 WHEN 'annual' THEN 12 ELSE 1 END"

RENT_STREAM_CTES = f"""
    segment AS (
        SELECT l.id AS lease_id, l.commencement_date AS starts, l.payments,
               l.escalation_pct AS escalation, l.free_periods AS free,
               {_MONTHS.format("l.payment_frequency")} AS months, l.payment_timing AS timing
          FROM leases l
        UNION ALL
        SELECT m.lease_id, m.effective_date, m.terms -> 'payments',
               coalesce(CAST(m.terms ->> 'escalation_pct' AS numeric), 0),
               coalesce(CAST(m.terms ->> 'free_periods' AS integer), 0),
               {_MONTHS.format("coalesce(m.terms ->> 'payment_frequency', l.payment_frequency)")},
               coalesce(m.terms ->> 'payment_timing', l.payment_timing)
          FROM lease_modifications m JOIN leases l ON l.id = m.lease_id
         WHERE m.terms ? 'payments'
    ), bounded AS (
        SELECT segment.*,
               lead(starts) OVER (PARTITION BY lease_id ORDER BY starts) AS until
          FROM segment
    ), step AS (
        SELECT b.*, CAST(s.value ->> 'amount' AS numeric) AS amount,
               CAST(s.value ->> 'periods' AS integer) AS periods,
               CAST(sum(CAST(s.value ->> 'periods' AS integer))
                        OVER (PARTITION BY b.lease_id, b.starts ORDER BY s.ordinality)
                    - CAST(s.value ->> 'periods' AS integer) AS integer) AS before
          FROM bounded b, jsonb_array_elements(b.payments) WITH ORDINALITY AS s
    ), rent_due AS (
        SELECT step.lease_id, x.due,
               CASE WHEN x.idx < step.free THEN 0
                    ELSE round(step.amount * power(1 + step.escalation / 100,
                                                   CAST(x.idx * step.months / 12 AS numeric)), 2)
               END AS rent
          FROM step
         CROSS JOIN LATERAL generate_series(0, step.periods - 1) AS k
         CROSS JOIN LATERAL (
               SELECT step.before + k AS idx,
                      CAST(step.starts + make_interval(months => (step.before + k
                           + (step.timing = 'arrears')::int) * step.months) AS date) AS due
         ) AS x
          JOIN leases l ON l.id = step.lease_id
         WHERE (step.until IS NULL OR x.due < step.until
                OR (step.timing = 'arrears' AND x.due = step.until))
           AND (l.terminated_on IS NULL OR x.due <= l.terminated_on)
    )
"""

# Each lease's end after its modifications (a modification's `term_months` runs from its date).
LEASE_END_CTE = """
    lease_end AS (
        SELECT l.id AS lease_id,
               coalesce((SELECT CAST(m.effective_date + make_interval(
                                     months => CAST(m.terms ->> 'term_months' AS integer))
                                     - interval '1 day' AS date)
                           FROM lease_modifications m
                          WHERE m.lease_id = l.id AND m.terms ? 'term_months'
                          ORDER BY m.effective_date DESC LIMIT 1), l.end_date) AS ends
          FROM leases l
    )
"""

# The annual rate of rent at the as-of date: the last non-zero payment due on or before it
# (else the first one), times the payments a year; free rent does not make a lease nominal.
ANNUAL_RENT_CTE = f"""
    annual_rent AS (
        SELECT l.id AS lease_id,
               12 / {_MONTHS.format("l.payment_frequency")} * coalesce(
                   (array_agg(r.rent ORDER BY r.due DESC)
                        FILTER (WHERE r.rent > 0 AND r.due <= :as_of))[1],
                   (array_agg(r.rent ORDER BY r.due) FILTER (WHERE r.rent > 0))[1], 0) AS rent
          FROM leases l LEFT JOIN rent_due r ON r.lease_id = l.id
         GROUP BY l.id, l.payment_frequency
    )
"""
