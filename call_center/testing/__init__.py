"""The public testing kit (see docs/testing.md)."""
