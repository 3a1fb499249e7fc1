"""Relay: pushing finished tasks to the caller's own webhook, signed, retried and recorded."""
