"""The secrets the test app runs with (and must never leak)."""

CALLBACK_SECRET = "test-callback-secret-0123456789abcdef"
ACEDATA_TOKEN = "test-acedata-token-must-never-leak"
