"""statement-level audit

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

The audit trail was written by a row-level trigger: one PL/pgSQL call, one `to_jsonb`, one
GeoJSON round trip through the geometry's hex text and one INSERT per changed row. Importing
94,000 parcels spent 6 of its 9 seconds there. The same trail (same rows, same JSON, same
`changed_fields`) is now written by statement-level triggers that read the statement's
transition tables and insert every event of the statement with one set-based INSERT.

Every table audited by `registry_audit_row_change` is switched, with the same arguments (key
column, geometry columns, columns left out of the trail), so tables added later keep working
the same way. A trigger with transition tables may fire on one event only: three per table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENTS = {
    "insert": "AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows",
}

# TG_ARGV as for registry_audit_row_change: key column, comma-separated geometry columns (kept
# as GeoJSON), comma-separated columns left out of the trail. The JSON of a row is built from
# its columns one by one, so a geometry goes straight to GeoJSON instead of through hex text.
_STATEMENT_FUNCTION = r"""
CREATE FUNCTION registry_audit_statement() RETURNS trigger LANGUAGE plpgsql
-- JIT would compile these one-off statements for longer than they run
SET jit = off AS $$
DECLARE
    key_column text := TG_ARGV[0];
    geometry_columns text[] := coalesce(string_to_array(nullif(TG_ARGV[1], ''), ','), '{}');
    omitted text[] := coalesce(string_to_array(nullif(TG_ARGV[2], ''), ','), '{}');
    actor text := coalesce(nullif(current_setting('registry.actor', true), ''), session_user);
    row_json text;
BEGIN
    -- jsonb_build_object('name', <alias>.name, …) || … (at most 100 arguments per call), where
    -- <alias> (%1$s) is filled in for each side below.
    SELECT string_agg(format('jsonb_build_object(%s)', chunk), ' || ' ORDER BY part)
      INTO row_json
      FROM (SELECT (ordinal - 1) / 40 AS part, string_agg(pair, ', ' ORDER BY ordinal) AS chunk
              FROM (SELECT row_number() OVER (ORDER BY a.attnum) AS ordinal,
                           CASE WHEN a.attname = ANY (geometry_columns)
                                THEN format('%L, ST_AsGeoJSON(%%1$s.%I, 9)::jsonb',
                                            a.attname, a.attname)
                                ELSE format('%L, %%1$s.%I', a.attname, a.attname) END AS pair
                      FROM pg_attribute a
                     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped
                       AND NOT a.attname = ANY (omitted)) columns
             GROUP BY part) parts;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format(
            'INSERT INTO audit_events (actor, table_name, row_key, action, after) '
            'SELECT $1, $2, j.after ->> $3, ''INSERT'', j.after FROM new_rows n '
            'CROSS JOIN LATERAL (SELECT %s AS after) j',
            format(row_json, 'n'))
        USING actor, TG_TABLE_NAME, key_column;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format(
            'INSERT INTO audit_events (actor, table_name, row_key, action, before) '
            'SELECT $1, $2, j.before ->> $3, ''DELETE'', j.before FROM old_rows o '
            'CROSS JOIN LATERAL (SELECT %s AS before) j',
            format(row_json, 'o'))
        USING actor, TG_TABLE_NAME, key_column;
    ELSE
        -- An UPDATE that changed nothing but the bookkeeping leaves no event. The CTEs are
        -- materialized so that each row's JSON is built once, not once per compared field.
        EXECUTE format(
            'WITH sides AS MATERIALIZED ('
            '    SELECT n.id, %s AS before, %s AS after '
            '      FROM old_rows o JOIN new_rows n ON n.id = o.id), '
            'changes AS MATERIALIZED ('
            '    SELECT s.id, s.before, s.after, '
            '           (SELECT array_agg(f.key ORDER BY f.key) FROM jsonb_each(s.after) f '
            '             WHERE f.key NOT IN (''version'', ''updated_at'') '
            '               AND f.value IS DISTINCT FROM s.before -> f.key) AS changed '
            '      FROM sides s) '
            'INSERT INTO audit_events (actor, table_name, row_key, action, changed_fields, '
            '                          before, after) '
            'SELECT $1, $2, c.after ->> $3, ''UPDATE'', c.changed, c.before, c.after '
            '  FROM changes c WHERE c.changed IS NOT NULL ORDER BY c.id',
            format(row_json, 'o'), format(row_json, 'n'))
        USING actor, TG_TABLE_NAME, key_column;
    END IF;
    RETURN NULL;
END $$
"""


def _audited_tables(function: str) -> list[tuple[str, str, list[str]]]:
    """(table, trigger name, arguments) of every trigger that calls `function`."""
    rows = op.get_bind().execute(sa.text(
        "SELECT tgrelid::regclass::text, tgname, tgargs FROM pg_trigger "
        "WHERE tgfoid = CAST(:function AS regproc) ORDER BY 1, 2"
    ), {"function": function}).all()
    return [(table, name, bytes(args).decode().split("\x00")[:-1]) for table, name, args in rows]


def _quoted(arguments: list[str]) -> str:
    return ", ".join("'" + argument.replace("'", "''") + "'" for argument in arguments)


def upgrade() -> None:
    op.execute(_STATEMENT_FUNCTION)
    for table, name, arguments in _audited_tables("registry_audit_row_change"):
        op.execute(f"DROP TRIGGER {name} ON {table}")
        for event, timing in _EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_audit_{event} {timing.format(table=table)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_statement"
                f"({_quoted(arguments)})"
            )


def downgrade() -> None:
    seen: set[str] = set()
    for table, name, arguments in _audited_tables("registry_audit_statement"):
        op.execute(f"DROP TRIGGER {name} ON {table}")
        if table not in seen:
            seen.add(table)
            op.execute(
                f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION registry_audit_row_change({_quoted(arguments)})"
            )
    op.execute("DROP FUNCTION registry_audit_statement()")
