"""ASGI middleware around every request: request ids and access log, body limit, shutdown."""
