"""Benchmark: redaction of 1 MB of adversarial text, per shape (the worst cases fuzzing found).

Not a test: it prints figures (the tests check that every pattern is bounded and unnested).
Run with ``make bench`` (or ``python benchmarks/bench_redact.py``).
"""

from __future__ import annotations

import os
import random
import string
import sys
import time
from typing import Dict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from alvin_integration.redact import Redactor  # noqa: E402

MB = 1_000_000


def shapes() -> Dict[str, str]:
    """1 MB texts shaped to make each pattern work hardest."""
    rng = random.Random(1)
    return {
        "one unbroken token": "a" * MB,
        "random printable": "".join(rng.choice(string.printable) for _ in range(MB)),
        "SQL": "INSERT INTO t SELECT a, b, c FROM s WHERE x = 'y' AND k = 1; " * (MB // 60),
        "URL heads, one @ at the end": "a://b:" * (MB // 6) + "@",
        "URL heads, long user parts": ("://" + "b" * 256) * (MB // 259) + "@",
        "secret names, no separator": "PGPASSWORDx" * (MB // 11),
        "secret assignments": "password=" * (MB // 9),
        "unclosed quotes after PASSWORD": ("password '" + "a" * 5000) * (MB // 5010),
        "PEM headers, no END": "-----BEGIN RSA PRIVATE KEY-----" * (MB // 31),
        "secret query parameters": "?key=&pass=" * (MB // 11),
        "IDENTIFIED BY": "identified by " * (MB // 14),
        "bearer": "bearer " * (MB // 7),
        "separators only": ":=" * (MB // 2),
        "URL heads, @ in reach, no user": ("://" + "/" * 20 + "@") * (MB // 24),
        "escaped PEM, no END": "-----BEGIN PRIVATE KEY-----" + "\\nMIIE" * (MB // 6),
        "escaped assignments": '\\"password\\": \\"' * (MB // 16),
        "unclosed quotes after password=": ("password='" + "a" * 5000) * (MB // 5010),
    }


def main() -> None:
    """Print the time to redact each shape (best of 3; a fresh redactor, no cache)."""
    print(f"redaction of 1 MB of adversarial text (python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    print(f"{'shape':32} {'ms':>8}")
    worst = 0.0
    for name, text in shapes().items():
        best = min(_time(text) for _ in range(3))
        worst = max(worst, best)
        print(f"{name:32} {best * 1000:8.1f}")
    print(f"worst: {worst * 1000:.1f} ms per MB")


def _time(text: str) -> float:
    redactor = Redactor()
    start = time.perf_counter()
    redactor.text(text)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
