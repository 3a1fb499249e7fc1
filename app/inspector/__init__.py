"""The inspector: the web UI for people (section 4 of DESIGN.md)."""
