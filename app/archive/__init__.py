"""The audio archive: generated files copied out of AceData's expiring URLs, and served."""
