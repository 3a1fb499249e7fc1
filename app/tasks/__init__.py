"""Tasks: what clients submit, and the state AceData's results bring them to."""
