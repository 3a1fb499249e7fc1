"""Every metric fishhook exports, declared once (DESIGN.md section 8 names them).

prometheus-client keeps the values: in memory for a single process, or, under
`fishhook serve` (PROMETHEUS_MULTIPROC_DIR, see app.metrics.multiproc), in files that one
scrape sums over the process's workers. Every label takes a bounded set of values: route
templates, never raw paths; status codes; fishhook's own outcome and result words.

Gauges read from the database say how they combine across workers: "mostrecent" (each
worker refreshes the same figure; the newest wins), the per-worker ones "livesum".
"""

from prometheus_client import Counter, Gauge, Histogram

from app.vocabulary import Outcome

# Latencies of a web service: fast answers, and long polls (GET /v1/tasks/{id}?wait=60).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

http_requests = Counter(
    "fishhook_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
http_duration = Histogram(
    "fishhook_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
callbacks = Counter(
    "fishhook_callbacks",
    "Requests to /callbacks, by outcome (error: answered 5xx, nothing stored)",
    ["outcome"],
)
acedata_requests = Counter(
    "fishhook_acedata_requests",
    "Requests to AceData, by endpoint, HTTP status ('none': no answer) and error code",
    ["endpoint", "status", "code"],
)
relay_attempts = Counter(
    "fishhook_relay_attempts",
    "Relay attempts, by result: delivered, retry (will be tried again), dead (given up)",
    ["result"],
)
reconcile_lookups = Counter(
    "fishhook_reconcile_lookups",
    "/fish/tasks lookups made by reconciliation, by result (finished, running, failed)",
    ["result"],
)
pruned_rows = Counter(
    "fishhook_pruned_rows",
    "Rows deleted by the retention settings, by table",
    ["table"],
)

# Refreshed from the database in the background (app.metrics.snapshot).
relay_backlog = Gauge(
    "fishhook_relay_backlog",
    "Relay messages waiting to be delivered (status pending)",
    multiprocess_mode="mostrecent",
)
tasks_open_oldest_age = Gauge(
    "fishhook_tasks_open_oldest_age_seconds",
    "Age of the oldest task still pending or submitted (0 when none)",
    multiprocess_mode="mostrecent",
)
tasks_24h = Gauge(
    "fishhook_tasks_24h",
    "Tasks created in the last 24 hours, by current status",
    ["status"],
    multiprocess_mode="mostrecent",
)
deliveries_24h = Gauge(
    "fishhook_deliveries_24h",
    "Requests logged as deliveries in the last 24 hours, by outcome",
    ["outcome"],
    multiprocess_mode="mostrecent",
)
table_rows = Gauge(
    "fishhook_table_rows_estimate",
    "Rows per table, as PostgreSQL estimates them (pg_class.reltuples)",
    ["table"],
    multiprocess_mode="mostrecent",
)
database_up = Gauge(
    "fishhook_database_up",
    "1 when the last background read of the database gauges succeeded, else 0",
    multiprocess_mode="mostrecent",
)
snapshot_time = Gauge(
    "fishhook_metrics_snapshot_timestamp_seconds",
    "Unix time of the last successful refresh of the database gauges",
    multiprocess_mode="max",
)

# Each worker's own state, written every second, summed over the live workers.
intake_waiting = Gauge(
    "fishhook_intake_waiting",
    "Callbacks waiting for a database writer",
    multiprocess_mode="livesum",
)
long_polls = Gauge(
    "fishhook_long_polls",
    "GET /v1/tasks/{id}?wait= requests waiting",
    multiprocess_mode="livesum",
)
pool_checked_out = Gauge(
    "fishhook_db_pool_checked_out",
    "Database connections checked out of the workers' pools",
    multiprocess_mode="livesum",
)
pool_size = Gauge(
    "fishhook_db_pool_size",
    "Size of the workers' database pools together (FISHHOOK_DB_POOL_SIZE per worker)",
    multiprocess_mode="livesum",
)

# Series that alerts use exist from the start, at 0, so rate() and increase() see them.
for _outcome in (*Outcome, "error"):
    callbacks.labels(_outcome)
for _result in ("delivered", "retry", "dead"):
    relay_attempts.labels(_result)

# The audio archive (app/archive): copies made by this process, and what waits in all.
archive_files = Counter(
    "fishhook_archive_files",
    "Generated files copied into the archive, by result: stored, retry, failed (given up)",
    ["result"],
)
archive_bytes = Counter("fishhook_archive_bytes", "Bytes stored in the archive")
archive_backlog = Gauge(
    "fishhook_archive_backlog",
    "Generated files waiting to be copied (status pending)",
    multiprocess_mode="mostrecent",
)
