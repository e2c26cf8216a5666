"""How many examples the randomized tests try: enough on every run, more when asked.

Every run exercises every fuzzer and property test, with a count that keeps the whole suite
within a few minutes on two cores (README, "Quick start"). ``INMAIL_FUZZ_SCALE`` multiplies
the counts of the tests that take theirs from :func:`examples`: ``INMAIL_FUZZ_SCALE=10`` (a
nightly run, or before a release) searches ten times as far as a run on each change can afford.
The older knobs (``INMAIL_FUZZ_N``, ``INMAIL_DIFF_*``, ``INMAIL_SOAK_*``) set their tests' counts
outright, as their modules say.
"""

from __future__ import annotations

import os

SCALE = float(os.environ.get("INMAIL_FUZZ_SCALE") or 1)


def examples(default: int) -> int:
    """``default`` examples, times ``INMAIL_FUZZ_SCALE``; at least one."""
    return max(1, round(default * SCALE))
