"""``python -m engine.cli`` runs the ``inmail`` command (handy without the console script)."""

from engine.cli import main

main()
