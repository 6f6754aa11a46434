"""The benchmark runner's bookkeeping (the benchmarks themselves run by `make bench`, not here)."""

from __future__ import annotations

from benchmarks.run import discover, table


def test_cases_are_discovered_with_unique_ids_and_one_baseline():
    cases = discover()
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    assert sum(c.baseline for c in cases) == 1
    assert {"bench_core:refine_color", "bench_core:method_color_refined"} <= set(ids)
    assert all(callable(c.setup) and ":" in c.id for c in cases)


def test_table_divides_by_the_baseline_and_reports_failures():
    results = [
        {
            "name": "base",
            "ms": 200.0,
            "ms_min": 190.0,
            "cpu_ms": 150.0,
            "peak_mb": 100.0,
            "extra_mb": 50.0,
            "baseline": True,
        },
        {
            "name": "fast",
            "ms": 50.0,
            "ms_min": 45.0,
            "cpu_ms": 40.0,
            "peak_mb": 80.0,
            "extra_mb": None,
            "baseline": False,
        },
        {"id": "bench_x:broken", "name": "broken", "error": "ImportError: no module named x"},
    ]
    lines = table(results).splitlines()
    assert lines[2].startswith("| base (baseline) | 200.0 | 190.0 | 1.00 | 150 | 100 | 50 |")
    assert lines[3] == "| fast | 50.0 | 45.0 | 0.25 | 40 | 80 | - |"
    assert "failed: ImportError" in lines[4]
