"""Tests (a package, so test modules need no unique prefixes)."""
