"""Living documentation: ``inmail docs`` builds a static site from requirement to ledger entry.

:mod:`engine.docs.sources` reads what the site shows from the project's own
files and a feature run; :mod:`engine.docs.site` renders and checks it.
"""

from __future__ import annotations

from engine.docs.site import Sources, build_site, check_site, gather

__all__ = ["Sources", "build_site", "check_site", "gather"]
