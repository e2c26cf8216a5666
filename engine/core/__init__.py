"""Stage 6, the engine: a call becomes facts, a verdict from the rules, and ledger effects."""
