"""The GASB 87 states and maturities of the stored schedules, in SQL: what the GASB 87 report
and the journal read of every lease (`registry.leases.gasb87.figures`), and the pro-rating that
LSE-2's balances share (`registry.leases.stored_schedules.STORED_BALANCES_CTE`).

Each statement is the engine's definition summed over the rows the engine stored
(`registry.leases.accounting`: `schedule_state`, `LeaseHistory.state`, `maturity_table`); the
tests hold them equal to the engine to the cent.
"""

from __future__ import annotations

from registry.leases.accounting.maturity import BUCKET_YEARS
from registry.leases.accounting.maturity import SINGLE_YEARS


def bucket_index_sql(due_date: str, fiscal_year: str, start_month: str) -> str:
    """`_bucket_index` of the fiscal year holding `due_date` in SQL (`fiscal_year_of`: a year
    is named by the calendar year it ends in), for the stored schedules' maturities."""
    due_year = (
        f"(CAST(extract(year FROM {due_date}) AS int) + CASE WHEN {start_month} <> 1 "
        f"AND extract(month FROM {due_date}) >= {start_month} THEN 1 ELSE 0 END)"
    )
    after = f"({due_year} - {fiscal_year})"
    return (
        f"CASE WHEN {after} <= {SINGLE_YEARS} THEN {after} - 1 "
        f"ELSE {SINGLE_YEARS} + ({after} - {SINGLE_YEARS} - 1) / {BUCKET_YEARS} END"
    )


def prorated_sql(amount: str, start: str, end: str, day: str) -> str:
    """`money.prorate` in SQL: the part of `amount` accruing evenly over [start, end) that has
    accrued by the end of `day`, the stub multiplied before dividing and rounded half away from
    zero to the cent as ROUND_HALF_UP does. A quotient of whole cents by a day count is never
    within numeric's 16 significant digits of a half cent without being one, so the rounding
    is the engine's exactly."""
    return f"""CASE WHEN {end} <= {day} + 1 THEN {amount}
                    WHEN {day} + 1 <= {start} THEN 0
                    ELSE round({amount} * ({day} + 1 - {start}) / ({end} - {start}), 2) END"""


def stored_states_sql(leases: str) -> str:
    """Each stored lease that `leases` (a SELECT of lease ids) selects, at the end of each of
    `:state_days` (a date[]), as `LeaseHistory.state` gives it: balance, accrued interest and
    carrying amount from the measurement in force that day; interest, straight-line recognition,
    payments and principal summed over every measurement up to then, a measurement a
    modification superseded counted as `LeaseModification.state_before` does (accruals to the
    day before the modification, payments through its `paid_through`). A lease not commenced by
    a day has no row for it.

    Why two ways: pro-rating every row at every day costs rows × days numeric sums (a year's
    journal asks for 13 days: 11 s at 5,000 leases). A measurement in force on every day asked
    (nearly all of them) is read in one pass instead: each row is placed at the first day from
    which it counts whole (`width_bucket` over the sorted days), those sums are added up day by
    day (a running sum), and only the few rows whose window holds a day are pro-rated there. The
    measurements superseded by one of the days (a modified lease's earlier ones) are summed day
    by day as the engine's definition reads.
    """
    interest_stub = prorated_sql("p.interest", "p.interest_from", "p.due_date", "d.day")
    recognized_stub = prorated_sql(
        "p.recognized", "p.recognition_from", "p.recognition_to", "d.day"
    )
    interest_by_then = prorated_sql("r.interest", "r.interest_from", "r.due_date", "s.accrued_to")
    recognized_by_then = prorated_sql(
        "r.recognized", "r.recognition_from", "r.recognition_to", "s.accrued_to"
    )
    return f"""
    WITH day_list AS (
        SELECT array_agg(DISTINCT d ORDER BY d) AS days
          FROM unnest(CAST(:state_days AS date[])) AS d
    ), day AS (
        SELECT d.day, CAST(d.i AS int) AS i
          FROM day_list, unnest(day_list.days) WITH ORDINALITY AS d(day, i)
    ), asked AS (
        SELECT m.*, m.in_force_until IS NULL OR m.in_force_until > days[cardinality(days)]
                   AS throughout
          FROM lease_measurements m, day_list
         WHERE m.lease_id IN ({leases}) AND m.commencement_date <= days[cardinality(days)]
    ), placed AS (  -- the rows of the measurements in force throughout, and when each counts
        SELECT r.lease_id, r.measurement, r.payment, r.principal, r.interest, r.recognized,
               r.interest_from, r.due_date, r.recognition_from, r.recognition_to,
               width_bucket(r.due_date - 1, days) + 1 AS paid_at,
               width_bucket(r.due_date - 2, days) + 1 AS interest_whole_at,
               width_bucket(r.interest_from - 1, days) + 1 AS interest_begins_at,
               width_bucket(r.recognition_to - 2, days) + 1 AS recognized_whole_at,
               width_bucket(r.recognition_from - 1, days) + 1 AS recognition_begins_at
          FROM asked a
          JOIN lease_schedule_rows r ON r.lease_id = a.lease_id AND r.measurement = a.measurement
         CROSS JOIN day_list
         WHERE a.throughout  -- rows that count by the last day
           AND (r.due_date <= days[cardinality(days)]
                OR r.interest_from <= days[cardinality(days)]
                OR r.recognition_from <= days[cardinality(days)])
    ), step AS (  -- what counts whole from day i on
        SELECT lease_id, measurement, paid_at AS i, sum(payment) AS payments,
               sum(principal) AS principal, sum(interest) AS paid_interest,
               0 AS interest, 0 AS recognized
          FROM placed GROUP BY 1, 2, 3
        UNION ALL
        SELECT lease_id, measurement, interest_whole_at, 0, 0, 0, sum(interest), 0
          FROM placed GROUP BY 1, 2, 3
        UNION ALL
        SELECT lease_id, measurement, recognized_whole_at, 0, 0, 0, 0, sum(recognized)
          FROM placed GROUP BY 1, 2, 3
        UNION ALL  -- every day from commencement on, so that each has its running sum
        SELECT a.lease_id, a.measurement, d.i, 0, 0, 0, 0, 0
          FROM asked a JOIN day d ON d.day >= a.commencement_date WHERE a.throughout
    ), running AS (
        SELECT lease_id, measurement, i,
               sum(sum(payments)) OVER w AS payments, sum(sum(principal)) OVER w AS principal,
               sum(sum(paid_interest)) OVER w AS paid_interest,
               sum(sum(interest)) OVER w AS interest, sum(sum(recognized)) OVER w AS recognized
          FROM step GROUP BY lease_id, measurement, i
        WINDOW w AS (PARTITION BY lease_id, measurement ORDER BY i)
    ), stub AS (  -- the rows whose window holds a day, pro-rated at that day
        SELECT p.lease_id, p.measurement, d.i,
               sum(CASE WHEN d.i >= p.interest_begins_at AND d.i < p.interest_whole_at
                        THEN {interest_stub}
                        ELSE 0 END) AS interest,
               sum(CASE WHEN d.i >= p.recognition_begins_at AND d.i < p.recognized_whole_at
                        THEN {recognized_stub}
                        ELSE 0 END) AS recognized
          FROM placed p
         CROSS JOIN LATERAL generate_series(
                   least(p.interest_begins_at, p.recognition_begins_at),
                   greatest(p.interest_whole_at, p.recognized_whole_at) - 1) AS held(i)
          JOIN day d ON d.i = held.i
         WHERE p.interest_begins_at < p.interest_whole_at
            OR p.recognition_begins_at < p.recognized_whole_at
         GROUP BY 1, 2, 3
    ), measured AS (  -- the measurements superseded by one of the days, day by day
        SELECT a.lease_id, a.measurement, d.day, a.initial_measurement, a.opening_recognizable,
               a.in_force_until <= d.day AS superseded,
               CASE WHEN a.in_force_until <= d.day THEN a.in_force_until - 1 ELSE d.day END
                   AS accrued_to,
               CASE WHEN a.in_force_until <= d.day THEN a.paid_through ELSE d.day END
                   AS settled_by
          FROM asked a JOIN day d ON a.commencement_date <= d.day
         WHERE NOT a.throughout
    ), by_measurement AS (
        SELECT a.lease_id, d.day, false AS superseded, a.initial_measurement,
               a.opening_recognizable, r.interest + coalesce(s.interest, 0) AS interest,
               r.recognized + coalesce(s.recognized, 0) AS recognized, r.payments,
               r.principal, r.paid_interest
          FROM running r
          JOIN asked a ON a.lease_id = r.lease_id AND a.measurement = r.measurement
          JOIN day d ON d.i = r.i AND d.day >= a.commencement_date
          LEFT JOIN stub s
            ON s.lease_id = r.lease_id AND s.measurement = r.measurement AND s.i = r.i
        UNION ALL
        SELECT s.lease_id, s.day, s.superseded,
               min(s.initial_measurement), min(s.opening_recognizable),
               coalesce(sum({interest_by_then}), 0),
               coalesce(sum({recognized_by_then}), 0),
               coalesce(sum(r.payment) FILTER (WHERE r.due_date <= s.settled_by), 0),
               coalesce(sum(r.principal) FILTER (WHERE r.due_date <= s.settled_by), 0),
               coalesce(sum(r.interest) FILTER (WHERE r.due_date <= s.settled_by), 0)
          FROM measured s
          LEFT JOIN lease_schedule_rows r
            ON r.lease_id = s.lease_id AND r.measurement = s.measurement
           AND (r.interest_from <= s.accrued_to OR r.recognition_from <= s.accrued_to
                OR r.due_date <= s.settled_by)  -- the rows that count by then
         GROUP BY s.lease_id, s.measurement, s.day, s.superseded
    )
    SELECT lease_id, day,
           sum(initial_measurement - principal) FILTER (WHERE NOT superseded) AS balance,
           sum(interest - paid_interest) FILTER (WHERE NOT superseded) AS accrued_interest,
           sum(opening_recognizable - recognized) FILTER (WHERE NOT superseded) AS carrying,
           sum(interest) AS interest, sum(recognized) AS recognized,
           sum(payments) AS payments, sum(principal) AS principal
      FROM by_measurement GROUP BY lease_id, day
"""


def stored_maturity_sql(leases: str) -> str:
    """Principal and interest of each stored lease that `leases` (a SELECT of lease ids) selects,
    falling due after `:year_end`, the end of fiscal year `:fiscal_year`, by maturity bucket
    (`maturity_table`): from the measurement in force at the year end, nothing when it has not
    commenced by then.
    """
    bucket = bucket_index_sql(
        "r.due_date", "CAST(:fiscal_year AS int)", "CAST(:start_month AS int)"
    )
    return f"""
    WITH in_force AS (
        SELECT DISTINCT ON (lease_id) lease_id, measurement, commencement_date
          FROM lease_measurements
         WHERE lease_id IN ({leases})
           AND (measurement = 0 OR commencement_date <= :year_end)
         ORDER BY lease_id, measurement DESC
    )
    SELECT f.lease_id,
           {bucket} AS bucket,
           sum(r.principal) AS principal, sum(r.interest) AS interest
      FROM in_force f
      JOIN lease_schedule_rows r ON r.lease_id = f.lease_id AND r.measurement = f.measurement
     WHERE f.commencement_date <= :year_end AND r.due_date > :year_end
     GROUP BY 1, 2
"""
