"""records search: full-text search over records' inputs, outputs and expected, and the index
that pages a project's records newest first

SQLite: an FTS5 table ``record_fts`` (rowid = record.id) holding the string and number values of
the three JSON columns, kept in step by triggers. A later migration that rebuilds ``record`` in
batch mode drops those triggers with the old table and must create them again.
PostgreSQL: a generated ``tsvector`` column ``search_vector`` (the same values, parsed by the
``simple`` configuration: no stemming, as FTS5's unicode61) with a GIN index.
Neither is a model (see ``records_search.outside_the_models``). Existing records are indexed here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SEARCHED = ("inputs", "outputs", "expected")


def _sqlite_text(row: str) -> str:
    """The searchable text of a record row (``new`` in a trigger, ``record`` in a SELECT)."""
    leaves = " UNION ALL ".join(
        f"SELECT value FROM json_tree({row}.{column}) WHERE type IN ('text', 'integer', 'real')" for column in SEARCHED
    )
    return f"(SELECT coalesce(group_concat(value, ' '), '') FROM ({leaves}))"


SQLITE_TRIGGERS = {
    "record_fts_insert": "AFTER INSERT ON record BEGIN "
    f"INSERT INTO record_fts (rowid, body) VALUES (new.id, {_sqlite_text('new')}); END",
    "record_fts_update": "AFTER UPDATE OF inputs, outputs, expected ON record BEGIN "
    "DELETE FROM record_fts WHERE rowid = old.id; "
    f"INSERT INTO record_fts (rowid, body) VALUES (new.id, {_sqlite_text('new')}); END",
    "record_fts_delete": "AFTER DELETE ON record BEGIN DELETE FROM record_fts WHERE rowid = old.id; END",
}

POSTGRES_VECTOR = " || ".join(
    f"""jsonb_to_tsvector('simple'::regconfig, {column}, '["string", "numeric"]')""" for column in SEARCHED
)


def upgrade() -> None:
    op.create_index("ix_record_created_at_id", "record", ["created_at", "id"])
    if op.get_context().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE record_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 0')")
        op.execute(f"INSERT INTO record_fts (rowid, body) SELECT record.id, {_sqlite_text('record')} FROM record")
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        op.execute(
            f"ALTER TABLE record ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({POSTGRES_VECTOR}) STORED"
        )
        op.execute("CREATE INDEX ix_record_search ON record USING gin (search_vector)")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS record_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_record_search")
        op.execute("ALTER TABLE record DROP COLUMN IF EXISTS search_vector")
    op.drop_index("ix_record_created_at_id", table_name="record")
