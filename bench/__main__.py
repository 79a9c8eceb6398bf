"""`python -m bench [name ...] [--quick]`: run the named benchmarks, or all of them.

Each benchmark is a module of this package with `main(argv) -> int`; `--quick` asks for a run
of a few seconds (CI). Benchmarks print figures; they never assert timings.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench

USAGE = "usage: python -m bench [{names}] [--quick]"


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = [arg for arg in argv if not arg.startswith("-")] or available()
    options = [arg for arg in argv if arg.startswith("-")]
    unknown = [name for name in names if name not in available()] + [o for o in options if o != "--quick"]
    if unknown:
        print(f"unknown: {' '.join(unknown)}\n" + USAGE.format(names="|".join(available())), file=sys.stderr)
        return 2
    status = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        status = module.main(options) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
