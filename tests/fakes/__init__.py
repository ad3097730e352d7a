"""Test doubles that speak real wire protocols (used by tests and benchmarks)."""
