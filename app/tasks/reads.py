"""Status reads (GET /v1/tasks/{id}) on the hot paths' asyncpg pool (app/statements.py).

Polling a task's status is what clients do most, so it skips the ORM: one prepared
statement on a plain asyncpg connection, the answer serialised once by pydantic. A read
waits a little longer for a connection than a write before shedding load
(FISHHOOK_DB_READ_POOL_TIMEOUT; the answer is then 503 with Retry-After), and survives the
database dropping its connection.
"""

from app.archive.service import files_sql
from app.errors import NotFound
from app.pagination import NUL
from app.statements import Statements
from app.tasks.schemas import TaskOut

# The columns of TaskOut, and what tasks.service adds: the deliveries naming the task, and
# its archived files.
# S608: no input in it, only columns and a subquery of our own.
_BY_ID_OR_TASK_ID = f"""
SELECT t.id, t.task_id, t.kind, t.status, t.input, t.output, t.result, t.error, t.trace_id,
       t.created_at, t.updated_at, t.finished_at,
       (SELECT count(*) FROM deliveries d WHERE d.task_ref = t.id) AS deliveries,
       {files_sql("t.id")} AS archive
FROM tasks t
WHERE t.id = $1 OR t.task_id = $1
"""  # noqa: S608


class Reads:
    def __init__(self, statements: Statements, timeout: float, public_url: str) -> None:
        self._statements = statements
        self._timeout = timeout
        self._context = {"public_url": public_url}

    async def task(self, id_or_task_id: str) -> TaskOut:
        """The task by fishhook's id or by AceData's task_id."""
        if NUL in id_or_task_id:
            # No stored id can hold one (PostgreSQL text cannot), and the query would fail.
            raise NotFound(f"no task {id_or_task_id!r}", code="task_not_found")
        row = await self._statements.fetchrow(_BY_ID_OR_TASK_ID, id_or_task_id, wait=self._timeout)
        if row is None:
            raise NotFound(f"no task {id_or_task_id!r}", code="task_not_found")
        return TaskOut.model_validate(dict(row), context=self._context)
