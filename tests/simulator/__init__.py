"""Tests of the fake AceData Fish API."""
