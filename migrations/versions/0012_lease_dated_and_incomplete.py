"""lease end date stored, incomplete leases

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

`leases.end_date` was generated from `term_months`, so a lease whose term is not whole months
(2015-01-15 to 2025-06-30, a partial period) could not be saved at all. It is now a plain column
that `clean_lease` writes (existing values kept), held by a CHECK to the term `term_months`
implies; the touch trigger no longer ignores it (0006), since it is a real column now, and an
insert of a whole term without it (SQL, the ORM) still gets the term's last day.

A lease may be recorded incomplete, as an old list gives it (issue 11, item 2): the terms GASB 87
needs may be NULL; `missing` names them, `measured` says whether the engine can measure the lease
(a CHECK holds a measured lease to every column the engine reads), `source_notes` keeps a
source's free text verbatim per field, `needs_confirmation` the fields whose value the source
doubted (`GSD?`), and `location` the point that placed the lease. The audit trail shows the point
as GeoJSON.

Downgrade: refused while any lease is not measured (its NULL terms have no place in the old
table); `end_date` becomes generated again.
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STORAGE_SRID = int(os.environ.get("REGISTRY_STORAGE_SRID", "4326"))
_NULLABLE = ("counterparty", "commencement_date", "term_months", "max_possible_term_months",
             "end_date", "payment_frequency", "payment_timing", "payments")
_END_DATE_IN_TERM = (
    "term_months IS NULL OR commencement_date IS NULL OR (end_date IS NOT NULL "
    "AND end_date >= CAST(commencement_date + make_interval(months => term_months - 1) AS date) "
    "AND end_date < CAST(commencement_date + make_interval(months => term_months) AS date))"
)
_MEASURED_HAS_TERMS = (
    "NOT measured OR (commencement_date IS NOT NULL AND term_months IS NOT NULL "
    "AND max_possible_term_months IS NOT NULL AND end_date IS NOT NULL "
    "AND payment_frequency IS NOT NULL AND payment_timing IS NOT NULL AND payments IS NOT NULL)"
)
_CHECKS = (
    ("end_date_in_term", _END_DATE_IN_TERM),
    ("measured_has_terms", _MEASURED_HAS_TERMS),
    ("unmeasured_says_why", "measured OR cardinality(missing) > 0"),
    ("source_notes_object", "jsonb_typeof(source_notes) = 'object'"),
)


# 0008's statement-level audit triggers, one per event
_AUDIT_EVENTS = {
    "insert": "AFTER INSERT ON leases REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON leases REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON leases REFERENCING OLD TABLE AS old_rows",
}


def _triggers(ignored: str, geometry_columns: str) -> None:
    op.execute("DROP TRIGGER leases_touch ON leases")
    op.execute("CREATE TRIGGER leases_touch BEFORE UPDATE ON leases FOR EACH ROW "
               f"EXECUTE FUNCTION registry_touch_row('{ignored}')")
    for event, timing in _AUDIT_EVENTS.items():
        op.execute(f"DROP TRIGGER leases_audit_{event} ON leases")
        op.execute(f"CREATE TRIGGER leases_audit_{event} {timing} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION registry_audit_statement"
                   f"('lease_number', '{geometry_columns}', '')")


# A writer that inserts a whole term without its end (SQL, the ORM) gets the term's last day, as
# the generated column gave it; `clean_lease` always writes it.
_END_DATE_DEFAULT = r"""
CREATE FUNCTION registry_lease_end_date_default() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.end_date IS NULL AND NEW.commencement_date IS NOT NULL
            AND NEW.term_months IS NOT NULL THEN
        NEW.end_date := CAST(NEW.commencement_date + make_interval(months => NEW.term_months)
                             - interval '1 day' AS date);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER leases_end_date_default BEFORE INSERT ON leases FOR EACH ROW
    EXECUTE FUNCTION registry_lease_end_date_default();
"""


def upgrade() -> None:
    op.execute("ALTER TABLE leases ALTER COLUMN end_date DROP EXPRESSION")
    op.execute(_END_DATE_DEFAULT)
    for column in _NULLABLE:
        op.alter_column("leases", column, nullable=True)
    op.add_column("leases", sa.Column("measured", sa.Boolean(), server_default=sa.text("true"),
                                      nullable=False))
    for column in ("missing", "needs_confirmation"):
        op.add_column("leases", sa.Column(column, postgresql.ARRAY(sa.Text()),
                                          server_default=sa.text("'{}'::text[]"),
                                          nullable=False))
    op.add_column("leases", sa.Column(
        "source_notes", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"),
        nullable=False))
    op.add_column("leases", sa.Column("location", Geometry(
        geometry_type="POINT", srid=STORAGE_SRID, dimension=2, spatial_index=False,
        from_text="ST_GeomFromEWKT", name="geometry"), nullable=True))
    op.create_index("ix_leases_location", "leases", ["location"], unique=False,
                    postgresql_using="gist")
    for name, condition in _CHECKS:
        op.create_check_constraint(op.f(f"ck_leases_{name}"), "leases", condition)
    _triggers("", "location")


def downgrade() -> None:
    op.execute("""
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM leases WHERE NOT measured) THEN
                RAISE EXCEPTION 'leases not measured (incomplete) are recorded: complete or '
                                'delete them before downgrading';
            END IF;
        END $$
    """)
    _triggers("end_date", "")
    op.execute("DROP TRIGGER leases_end_date_default ON leases")
    op.execute("DROP FUNCTION registry_lease_end_date_default()")
    for name, _ in _CHECKS:
        op.drop_constraint(op.f(f"ck_leases_{name}"), "leases", type_="check")
    op.drop_index("ix_leases_location", table_name="leases", postgresql_using="gist")
    for column in ("location", "source_notes", "needs_confirmation", "missing", "measured"):
        op.drop_column("leases", column)
    op.drop_index("ix_leases_end_date", table_name="leases")
    op.drop_column("leases", "end_date")
    op.add_column("leases", sa.Column("end_date", sa.Date(), sa.Computed(
        "(commencement_date + make_interval(months => term_months) - interval '1 day')::date",
        persisted=True), nullable=False))
    op.create_index("ix_leases_end_date", "leases", ["end_date"], unique=False)
    for column in _NULLABLE:
        if column != "end_date":
            op.alter_column("leases", column, nullable=False)
