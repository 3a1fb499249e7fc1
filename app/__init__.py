"""fishhook: a callback receiver for AceData Cloud's Fish Audio API."""
