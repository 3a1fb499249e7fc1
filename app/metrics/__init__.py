"""GET /metrics: Prometheus gauges from one cheap query, plus process-local ones."""
