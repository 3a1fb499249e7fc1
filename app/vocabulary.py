"""The words fishhook stores and answers with: one StrEnum per concept."""

from enum import StrEnum


class TaskKind(StrEnum):
    VOICE = "voice"
    SPEECH = "speech"


class TaskStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"


class Outcome(StrEnum):
    """What a delivery did to its task."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    LATE = "late"
    UNAUTHENTICATED = "unauthenticated"
    INVALID = "invalid"
    UNMATCHED = "unmatched"


class MessageStatus(StrEnum):
    """Where a relay message stands: still to send, delivered, or given up on."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class ArchiveStatus(StrEnum):
    """Where the copy of one generated file stands (app/archive)."""

    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"


# Fishhook has stopped waiting on these; a result may still land on an expired task.
TERMINAL_STATUSES = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.EXPIRED})
