"""Hostile YAML refused fast and small (issue 19, point 3; target: each under 1 s and 64 MiB).

Measured: ``validate_text`` (what ``rules check``, the hot reload and the what-if page run) on
the worst texts each bound lets through to the point of refusal — a billion laughs, flow and
block nesting, 10,000 values, one scalar aliased into a million characters, a file of 512 KiB,
a recursive alias — the time of each (best of 3) and its peak of Python memory (tracemalloc,
in a separate pass). Reference in the same run: checking the Bernay rules (8 KiB, 767 values).
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

from ivr_prompts.catalogue import load_catalogue
from routing_rules.errors import RulesInvalid
from routing_rules.loader import default_rules_path, validate_text

TARGET_S = 1.0
TARGET_MIB = 64.0


def _laughs(width: int, depth: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
    return "\n".join(lines) + "\n"


def _cases() -> dict[str, str]:
    return {
        "billion laughs (9 x 9)": _laughs(9, 9),
        "flow nesting, 500 KiB of [": "[" * 500_000,
        "block nesting, 200 levels": "".join("  " * i + f"k{i}:\n" for i in range(200)),
        "10,000 values and more": "".join(f"k{i}: v\n" for i in range(40_000))[: 500 * 1024],
        "a scalar aliased to 1 M chars": f'a: &a "{"x" * 200_000}"\nb: [{", ".join(["*a"] * 6)}]\n',
        "512 KiB of one scalar": "a: " + "x" * (512 * 1024 - 4) + "\n",
        "recursive alias": "a: &a [b, {c: *a}]\n",
    }


def _seconds(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _peak_mib(run: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> bool:
    catalogue = frozenset(load_catalogue())
    bernay = default_rules_path().read_text(encoding="utf-8")

    def check(text: str) -> Callable[[], object]:
        def run() -> object:
            try:
                return validate_text(text, "bench.yaml", catalogue)
            except RulesInvalid as exc:
                return exc

        return run

    reference = _seconds(check(bernay))
    print(f"reference: the Bernay rules checked in {reference * 1000:7.1f} ms")
    ok = True
    for name, text in _cases().items():
        seconds = _seconds(check(text))
        peak = _peak_mib(check(text))
        outcome = check(text)()
        said = str(outcome).splitlines()[0][:70] if isinstance(outcome, RulesInvalid) else "OK"
        within = seconds < TARGET_S and peak < TARGET_MIB
        ok = ok and within and isinstance(outcome, RulesInvalid)
        print(
            f"{name:32} {len(text) / 1024:7.0f} KiB {seconds * 1000:7.1f} ms"
            f" ({seconds / reference:5.1f} x Bernay) {peak:6.1f} MiB  {said}"
        )
    print("OK" if ok else f"BELOW TARGET (each under {TARGET_S} s and {TARGET_MIB} MiB, refused)")
    return ok


if __name__ == "__main__":
    main()
