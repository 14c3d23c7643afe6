"""the dashboard's hourly rollup, and the triggers that mark an hour stale when what it sums is written

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 06:10:00

Each trigger deletes the report_hour rows of the hours a write touches (services.rollup then sums those
hours live until it builds them again). One mechanism for every path that writes, ORM or not.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# the columns of a call that its figures read (an UPDATE of others, e.g. its status, marks nothing)
CALL_COLUMNS = "direction, created_at, agent_id, answered_at, duration_seconds, disposition, queue_outcome, wait_seconds"
HOLD_NOTE = "{row}.kind = 'note' AND {row}.status IN ('hold', 'resume')"


def _sqlite_stale(start: str, end: str, when: str = "") -> str:
    """The hours from `start`'s to `end` (SQLite keeps UTC as text: 'YYYY-MM-DD HH:MM:SS.ffffff')."""
    extra = f"{when} AND " if when else ""
    return f"DELETE FROM report_hour WHERE {extra}hour >= substr({start}, 1, 13) AND hour <= {end};"


def _sqlite_stale_call(call_id: str, when: str = "") -> str:
    created = f"(SELECT created_at FROM call WHERE id = {call_id})"
    return _sqlite_stale(created, created, when)


def _sqlite_triggers() -> list[str]:
    triggers = []

    def trigger(name: str, event: str, table: str, body: list[str], when: str = "") -> None:
        condition = f" WHEN {when}" if when else ""
        triggers.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table}{condition} BEGIN {' '.join(body)} END"
        )

    trigger("report_call_insert", "INSERT", "call", [_sqlite_stale("NEW.created_at", "NEW.created_at")])
    trigger(f"report_call_update", f"UPDATE OF {CALL_COLUMNS}", "call", [
        _sqlite_stale("OLD.created_at", "OLD.created_at"), _sqlite_stale("NEW.created_at", "NEW.created_at"),
    ])
    trigger("report_call_delete", "DELETE", "call", [_sqlite_stale("OLD.created_at", "OLD.created_at")])
    trigger("report_queue_entry_insert", "INSERT", "queue_entry", [_sqlite_stale_call("NEW.call_id")])
    trigger("report_queue_entry_update", "UPDATE OF queue, call_id", "queue_entry", [
        _sqlite_stale_call("OLD.call_id"), _sqlite_stale_call("NEW.call_id"),
    ])
    trigger("report_queue_entry_delete", "DELETE", "queue_entry", [_sqlite_stale_call("OLD.call_id")])
    trigger("report_hold_insert", "INSERT", "call_event", [_sqlite_stale_call("NEW.call_id")],
            HOLD_NOTE.format(row="NEW"))
    trigger("report_hold_delete", "DELETE", "call_event", [_sqlite_stale_call("OLD.call_id")],
            HOLD_NOTE.format(row="OLD"))

    def span(row: str) -> list[str]:
        return [
            _sqlite_stale(f"{row}.started_at", f"{row}.ended_at", f"{row}.ended_at IS NOT NULL"),
            _sqlite_stale_call(f"{row}.call_id", f"{row}.state = 'wrap-up'"),
        ]

    trigger("report_span_insert", "INSERT", "agent_state_span", span("NEW"))
    trigger("report_span_update", "UPDATE", "agent_state_span", span("OLD") + span("NEW"))
    trigger("report_span_delete", "DELETE", "agent_state_span", span("OLD"))

    def offer(row: str) -> list[str]:
        return [_sqlite_stale(f"{row}.offered_at", f"{row}.offered_at")]

    trigger("report_offer_insert", "INSERT", "call_offer", offer("NEW"))
    trigger("report_offer_update", "UPDATE OF outcome, offered_at, agent_id", "call_offer",
            offer("OLD") + offer("NEW"))
    trigger("report_offer_delete", "DELETE", "call_offer", offer("OLD"))
    return triggers


SQLITE_TRIGGERS = (
    "report_call_insert", "report_call_update", "report_call_delete", "report_queue_entry_insert",
    "report_queue_entry_update", "report_queue_entry_delete", "report_hold_insert", "report_hold_delete",
    "report_span_insert", "report_span_update", "report_span_delete", "report_offer_insert",
    "report_offer_update", "report_offer_delete",
)

POSTGRES = [
    # the hours from start's to end
    """CREATE FUNCTION report_stale(start timestamptz, finish timestamptz) RETURNS void LANGUAGE sql AS $$
        DELETE FROM report_hour
        WHERE hour >= date_trunc('hour', start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AND hour <= finish
    $$""",
    """CREATE FUNCTION report_stale_call(which integer) RETURNS void LANGUAGE sql AS $$
        SELECT report_stale(created_at, created_at) FROM call WHERE id = which
    $$""",
    """CREATE FUNCTION report_call_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN PERFORM report_stale(OLD.created_at, OLD.created_at); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM report_stale(NEW.created_at, NEW.created_at); END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION report_call_id_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN PERFORM report_stale_call(OLD.call_id); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM report_stale_call(NEW.call_id); END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION report_span_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            IF OLD.ended_at IS NOT NULL THEN PERFORM report_stale(OLD.started_at, OLD.ended_at); END IF;
            IF OLD.state = 'wrap-up' AND OLD.call_id IS NOT NULL THEN PERFORM report_stale_call(OLD.call_id); END IF;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            IF NEW.ended_at IS NOT NULL THEN PERFORM report_stale(NEW.started_at, NEW.ended_at); END IF;
            IF NEW.state = 'wrap-up' AND NEW.call_id IS NOT NULL THEN PERFORM report_stale_call(NEW.call_id); END IF;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION report_offer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN PERFORM report_stale(OLD.offered_at, OLD.offered_at); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM report_stale(NEW.offered_at, NEW.offered_at); END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER report_call AFTER INSERT OR DELETE OR UPDATE OF {CALL_COLUMNS} ON call
        FOR EACH ROW EXECUTE FUNCTION report_call_changed()""",
    """CREATE TRIGGER report_queue_entry AFTER INSERT OR DELETE OR UPDATE OF queue, call_id ON queue_entry
        FOR EACH ROW EXECUTE FUNCTION report_call_id_changed()""",
    f"""CREATE TRIGGER report_hold_insert AFTER INSERT ON call_event FOR EACH ROW
        WHEN ({HOLD_NOTE.format(row="NEW")} AND NEW.call_id IS NOT NULL) EXECUTE FUNCTION report_call_id_changed()""",
    f"""CREATE TRIGGER report_hold_delete AFTER DELETE ON call_event FOR EACH ROW
        WHEN ({HOLD_NOTE.format(row="OLD")} AND OLD.call_id IS NOT NULL) EXECUTE FUNCTION report_call_id_changed()""",
    """CREATE TRIGGER report_span AFTER INSERT OR UPDATE OR DELETE ON agent_state_span
        FOR EACH ROW EXECUTE FUNCTION report_span_changed()""",
    """CREATE TRIGGER report_offer AFTER INSERT OR DELETE OR UPDATE OF outcome, offered_at, agent_id ON call_offer
        FOR EACH ROW EXECUTE FUNCTION report_offer_changed()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER report_call ON call",
    "DROP TRIGGER report_queue_entry ON queue_entry",
    "DROP TRIGGER report_hold_insert ON call_event",
    "DROP TRIGGER report_hold_delete ON call_event",
    "DROP TRIGGER report_span ON agent_state_span",
    "DROP TRIGGER report_offer ON call_offer",
    "DROP FUNCTION report_call_changed()",
    "DROP FUNCTION report_call_id_changed()",
    "DROP FUNCTION report_span_changed()",
    "DROP FUNCTION report_offer_changed()",
    "DROP FUNCTION report_stale_call(integer)",
    "DROP FUNCTION report_stale(timestamptz, timestamptz)",
]


def upgrade() -> None:
    op.create_table('report_hour',
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sl_threshold', sa.Integer(), nullable=False),
    sa.Column('short_abandon', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('hour')
    )
    op.create_table('report_rollup',
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('wait', sa.Float(), nullable=False),
    sa.Column('talk', sa.Float(), nullable=False),
    sa.Column('hold', sa.Float(), nullable=False),
    sa.Column('wrapup', sa.Float(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'hour', 'queue', 'agent_id', 'item'),
    sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_triggers():
            op.execute(statement)
    else:
        for statement in POSTGRES:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for statement in POSTGRES_DROP:
            op.execute(statement)
    op.drop_table('report_rollup')
    op.drop_table('report_hour')
