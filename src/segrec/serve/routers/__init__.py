"""One router per resource: health/metrics, segments, users, assign, admin, dashboard."""
