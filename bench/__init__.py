"""Benchmarks: ``make bench`` (``python -m bench [NAME ...]``).

Each ``bench/bench_<name>.py`` has a ``main()`` that prints its figures and a ratio against a
reference run made in the same process, so numbers from different machines stay comparable.
Speed targets live here, never as timed assertions in the tests.
"""
