"""The `archive` part of the Task JSON: where the task's audio stands, and its own URL."""

from typing import Any

from pydantic import BaseModel

from app.archive.service import sort_key
from app.vocabulary import ArchiveStatus


class FileState(BaseModel):
    """Where one archived file stands."""

    status: ArchiveStatus
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    # fishhook's own URL for this file (AceData's stays in `output`).
    url: str
    error: str | None = None


class ArchivedFile(FileState):
    name: str  # "audio", "sample_1", "cover", ...: GET /v1/tasks/{id}/audio?file=<name>


class Archive(FileState):
    """The task's audio (its first file) at the top level; every file in `files`."""

    files: list[ArchivedFile]


def audio_url(base: str, task_id: str, name: str | None = None) -> str:
    """fishhook's URL of a task's archived file; relative when the public URL is unknown."""
    url = f"{base}/v1/tasks/{task_id}/audio"
    return url if name is None or name == "audio" else f"{url}?file={name}"


def summary(files: list[dict[str, Any]], *, task_id: str, base: str) -> Archive | None:
    """None for a task with no generated file (not succeeded, or nothing to keep)."""
    if not files:
        return None
    ordered = sorted(files, key=lambda f: sort_key(f["name"]))
    out = [
        ArchivedFile(
            name=f["name"],
            status=f["status"],
            size=f.get("size"),
            sha256=f.get("sha256"),
            content_type=f.get("content_type"),
            url=audio_url(base, task_id, f["name"]),
            error=f.get("last_error"),
        )
        for f in ordered
    ]
    first = out[0]
    return Archive(
        **first.model_dump(exclude={"name", "url"}), url=audio_url(base, task_id), files=out
    )
