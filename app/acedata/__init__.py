"""The upstream: AceData Cloud's Fish API."""
