"""GET /: a server-rendered page of recent tasks and deliveries, for people."""
