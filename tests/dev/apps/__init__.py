"""Fixture apps for the reloader tests; each test copies one into a temporary directory."""
