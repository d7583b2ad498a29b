"""Run every ``benchmarks/bench_*.py`` module, print one table, write ``benchmarks/results/latest.json``.

Usage: ``.venv/bin/python benchmarks/run.py [--quick] [--only NAME]`` (NAME: ``pricing`` for
``bench_pricing.py``). Exit status 1 when a checked row fails, 2 when a module crashes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script: make `benchmarks` and `magnus_desktop` importable
    sys.path.insert(0, str(HERE.parent))

from benchmarks.common import Result, format_table, write_json  # noqa: E402


def discover(only: str | None) -> list[str]:
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    if only is not None:
        if only not in names:
            raise SystemExit(f"no benchmark {only!r}; available: {', '.join(names)}")
        names = [only]
    return names


def run_module(name: str, quick: bool) -> tuple[list[Result], bool]:
    """Rows of one module; a crash becomes one failing row (the other modules still run)."""
    try:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        return list(module.run(quick=quick)), True
    except Exception as exc:  # noqa: BLE001 - report and continue with the next module
        traceback.print_exc()
        return [Result(name, "crashed", float("nan"), "", note=f"{type(exc).__name__}: {exc}")], False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", metavar="NAME", help="run only benchmarks/bench_NAME.py")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args(argv)
    results: list[Result] = []
    ok = True
    for name in discover(args.only):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows, module_ok = run_module(name, args.quick)
        results += rows
        ok &= module_ok
    print(format_table(results))
    write_json(results, args.out, {"quick": args.quick, "only": args.only})
    print(f"\nwrote {args.out}", file=sys.stderr)
    if not ok:
        return 2
    return 1 if any(r.passed is False for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
