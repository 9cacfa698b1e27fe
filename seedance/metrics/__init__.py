"""Prometheus metrics at ``/metrics``: what processes record (``instruments``) and what the
database says at scrape time (``collectors``, which other apps extend)."""
