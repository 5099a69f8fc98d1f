"""Prometheus metrics shared by the plumbing (one registry per process)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter("events_published_total", "Outbox rows published", ["relay"])
RELAY_ERRORS = Counter("outbox_relay_errors_total", "Relay publish failures", ["relay"])
EVENTS_CONSUMED = Counter(
    "events_consumed_total", "Events handled by a consumer", ["consumer", "outcome"]
)
DEAD_LETTERS = Counter("dead_letters_total", "Messages sent to the dead-letter topic", ["consumer"])
CONSUMER_RETRYING = Gauge(
    "consumer_retrying",
    "1 while a consumer holds a partition retrying an event that failed for a transient cause",
    ["consumer"],
)
CONSUMER_TRANSIENT_FAILURES = Counter(
    "consumer_transient_failures_total",
    "Handler failures classified transient (retried, never dead-lettered)",
    ["consumer"],
)
CONSUMER_BATCH_FALLBACKS = Counter(
    "consumer_batch_fallbacks_total",
    "Fetched batches that failed as one transaction and were applied event by event",
    ["consumer"],
)
HTTP_REQUESTS = Histogram(
    "http_request_seconds",
    "HTTP request latency",
    ["service", "method", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
