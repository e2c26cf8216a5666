"""Source-stage tests (a package, so test module names cannot clash with other areas)."""
