"""The AceData-compatible API (DESIGN.md section 5): AceData's own clients, pointed at fishhook."""
