"""Metrics: the families (families.py), the database gauges read in the background
(snapshot.py), the multiprocess files (multiproc.py), and GET /metrics (router.py)."""
