"""`make bench`: every benchmark in turn, then one table of all their figures.

Each script prints its own table as it finishes and leaves its figures in
var/bench/<script>.json (bench/common.py); this prints them together, with the
machine and the date, and exits non-zero when a script failed. `--only NAME`
runs some of them; `--quick` asks each for a shorter run (fewer requests, fewer
leads) for trying the scripts out, not for figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:
    sys.path.insert(0, str(BENCH.parent))

from bench.common import RESULTS, Figure, table  # noqa: E402

# In the order the issue lists them; each with its full and its quick arguments.
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "speed_to_lead": ([], ["--submissions", "40", "--backlog", "1000"]),
    "submissions": ([], ["--requests", "60", "--rounds", "1"]),
    "leads_queue": ([], ["--sizes", "20000"]),
    "followups": ([], ["--messages", "1000"]),
    "slots": ([], ["--repeats", "2"]),
    "screening": ([], []),
}


def machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    python = platform.python_version()
    return f"{platform.machine()}, {cpus} cores{memory}, Python {python}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(SCRIPTS))
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()

    chosen = options.only or list(SCRIPTS)
    failed: list[str] = []
    started = time.monotonic()
    for name in chosen:
        (RESULTS / f"{name}.json").unlink(missing_ok=True)
        full, quick = SCRIPTS[name]
        arguments = quick if options.quick else full
        print(f"\n=== bench/{name}.py {' '.join(arguments)}", flush=True)
        began = time.monotonic()
        done = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), *arguments])
        print(f"=== {name}: {time.monotonic() - began:.0f} s", flush=True)
        if done.returncode != 0:
            failed.append(name)

    print(
        f"\nbenchmarks on {machine()}, {dt.datetime.now(dt.UTC).date().isoformat()}, "
        f"{time.monotonic() - started:.0f} s in all"
        + (" (--quick: not figures to keep)" if options.quick else "")
    )
    for name in chosen:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        kept = json.loads(path.read_text())
        figures = [
            Figure(**{k: v for k, v in each.items() if k != "ratio"})
            for each in kept["figures"]
        ]
        print(f"\n{name}: {kept['context']}")
        print(table(figures))
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
