"""Pure, exact GASB Statement No. 87 lease accounting.

No database, no web framework: ``LeaseTerms`` in, ``Decimal`` schedules out.

Typical use::

    terms = LeaseTerms(direction="in", commencement_date=date(2021, 4, 1),
                       term_months=36, payment_frequency="monthly",
                       payment_timing="advance",
                       payments=(PaymentStep(36, Decimal("30000.00")),),
                       discount_rate=Decimal("0.0089"))
    schedule = lease_schedule(terms)          # rows, liability, asset
    fiscal_year_balances(schedule)            # July-June years by default
    maturity_table(schedule, fiscal_year=2022)

A term may instead run to an inclusive ``end_date`` that is not a whole number of
payment periods: it then has a partial first or last period (``periods`` states the
convention), which every function below handles.

A modified lease is a ``LeaseHistory`` (the schedule at commencement plus each
remeasurement in date order); every balance function accepts it::

    history = modify_lease(modify_lease(schedule, new_terms), later_terms).history
    balances_at(history, date(2022, 6, 30))   # reads the schedule in force then
"""

from .balances import FiscalYearBalances
from .balances import LeaseBalances
from .balances import balances_at
from .balances import fiscal_year_balances
from .cashflows import ScheduledPayment
from .cashflows import payment_stream
from .cashflows import present_value
from .export import fiscal_years_to_csv
from .export import maturity_table_to_csv
from .export import schedule_to_csv
from .history import LeaseHistory
from .history import lease_history
from .maturity import MaturityBucket
from .maturity import MaturityTable
from .maturity import combined_maturity_table
from .maturity import maturity_table
from .measurement import LeaseMeasurement
from .measurement import implicit_rate
from .measurement import is_short_term
from .measurement import measure_lease
from .measurement import resolve_discount_rate
from .modification import LeaseModification
from .modification import modify_lease
from .parsing import lease_terms_from_dict
from .rows import LesseeRow
from .rows import LessorRow
from .schedule import LeaseSchedule
from .schedule import lease_schedule
from .terms import LeaseTerms
from .terms import LeaseTermsError
from .terms import PaymentStep
from .terms import validate_lease_terms

__all__ = [
    "FiscalYearBalances",
    "LeaseBalances",
    "LeaseHistory",
    "LeaseMeasurement",
    "LeaseModification",
    "LeaseSchedule",
    "LeaseTerms",
    "LeaseTermsError",
    "LesseeRow",
    "LessorRow",
    "MaturityBucket",
    "MaturityTable",
    "PaymentStep",
    "ScheduledPayment",
    "balances_at",
    "combined_maturity_table",
    "fiscal_year_balances",
    "fiscal_years_to_csv",
    "implicit_rate",
    "is_short_term",
    "lease_history",
    "lease_schedule",
    "lease_terms_from_dict",
    "maturity_table",
    "maturity_table_to_csv",
    "measure_lease",
    "modify_lease",
    "payment_stream",
    "present_value",
    "resolve_discount_rate",
    "schedule_to_csv",
    "validate_lease_terms",
]
