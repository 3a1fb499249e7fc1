"""Claiming due rows of an outbox table (archive files, relay messages) under a lease."""


def due_sql(table: str, alias: str, returning: str) -> str:
    """An UPDATE that claims up to :limit pending rows of `table` whose next attempt is due
    and that no process holds: each gets its attempt number under the row lock and is leased
    for :lease seconds, so no other process takes it until its outcome is recorded or the
    lease runs out (the process died mid-attempt). SKIP LOCKED: concurrent claimers each get
    rows of their own instead of waiting. `returning` names the claimed rows' columns, each
    qualified with `alias` (the updated table's name in the statement)."""
    return f"""
UPDATE {table} AS {alias}
SET attempts = {alias}.attempts + 1, locked_until = now() + make_interval(secs => :lease)
FROM (
    SELECT id FROM {table}
    WHERE status = 'pending' AND next_attempt_at <= now()
      AND (locked_until IS NULL OR locked_until <= now())
    ORDER BY next_attempt_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
) AS due
WHERE {alias}.id = due.id
RETURNING {returning}
"""  # noqa: S608 (table and column names are the callers' constants, never input)
