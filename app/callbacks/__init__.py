"""Callbacks: the intake of AceData's results, and the log of every request that reached it."""
