"""Stage 5, the store: where account state lives between calls (memory, SQLite, PostgreSQL)."""
