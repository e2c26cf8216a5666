"""Run many random decisions (and book reloads) in this process; print RSS and thread counts as JSON.

Used by test_soak.py in a subprocess, so a crash in the C extension
shows as a failed exit code instead of killing the test run.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import threading
from pathlib import Path

import psutil
from rules_oracle import random_facts  # run as a script, with this folder on PYTHONPATH

from engine.policy import load_policy
from engine.rules import catalog
from engine.rules.book import RuleBook
from engine.source.paths import packaged_policy_path, packaged_rules_dir


def main() -> None:
    n, cycles = int(sys.argv[1]), int(sys.argv[2])
    policy = load_policy(packaged_policy_path())
    rules = Path(packaged_rules_dir())
    proc = psutil.Process()
    threads = threading.active_count()
    rng = random.Random(7)
    consts = {-1, 0, 1, 2, 5, 89, 90, 91}

    def run(book: RuleBook, count: int) -> None:
        for i in range(count):
            event = catalog.EVENT_KINDS[i % len(catalog.EVENT_KINDS)]
            book.decide(event, random_facts(event, policy, rng, consts))

    book = RuleBook.load(rules, policy, memo=False)
    run(book, min(n, 5000))  # warm up allocators
    rss0 = proc.memory_info().rss
    run(book, n)
    rss1 = proc.memory_info().rss
    book.close()
    for _ in range(3):  # warm up load/close
        with RuleBook.load(rules, policy, memo=False) as b:
            run(b, 50)
    rss2 = proc.memory_info().rss
    for _ in range(cycles):
        with RuleBook.load(rules, policy, memo=False) as b:
            run(b, 50)
    rss3 = proc.memory_info().rss
    for _ in range(cycles):  # dropped without close(): freed when collected
        run(RuleBook.load(rules, policy, memo=False), 50)
    gc.collect()
    rss4 = proc.memory_info().rss
    print(
        json.dumps(
            {
                "decide_growth": rss1 - rss0,
                "reload_growth": rss3 - rss2,
                "drop_growth": rss4 - rss3,
                "threads_before": threads,
                "threads_after": threading.active_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
