"""Idempotency-Key on submits: a repeated submit returns the first task instead of paying twice."""
