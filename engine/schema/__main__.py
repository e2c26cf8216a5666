"""``python -m engine.schema``: regenerate the shipped editor schemas from the loaders' tables."""

from engine.schema import write_all

for path in write_all():
    print(f"wrote {path}")
