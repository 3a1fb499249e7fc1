"""Reconciliation: finishing tasks whose callback never came, from AceData's /fish/tasks."""
