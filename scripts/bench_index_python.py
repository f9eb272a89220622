r"""The Python side of the index benchmark (`bamboost/benches/index.rs`).

Measures Python bamboost's index on a collection the Rust benchmark wrote, with the same steps
the Rust side measures, and prints one JSON object of timings (seconds) on stdout. Imports
happen before any timing. Two phases, each run in a fresh process by the Rust benchmark:

- ``cold``: one cold sync into a fresh index file ``--index``:
  ``Index(sql_file=..., search_paths=[home])`` and ``scan_for_collections()`` (``cold_scan``),
  then ``sync_collection(uid)``, every simulation read from its ``data.h5`` (``cold_sync``);
  ``cold_total`` is both. One sync per process: Python bamboost 0.14 keeps every
  ``Simulation`` it reads alive for the life of the process (its ``Communicator`` registry,
  ``bamboost.mpi._WeakKeyDict``, holds the parent ``Simulation`` of each ``HDF5File``
  strongly), so a second sync in the same process is slower (the garbage collector walks
  them all);
- ``query`` on the index ``--index`` that a cold sync left: ``warm``, reopening it and syncing
  again with nothing changed (``Index(...)`` + ``sync_collection(uid)``), then, on an open
  collection, ``df``, ``filter_df``, ``filter2_df``: ``coll.df``,
  ``coll.filter(coll.k["n"] > T).df`` and
  ``coll.filter(coll.k["n"] > T, coll.k["solver"] == "cg").df`` (each call reads the
  collection's rows from the index again, as Python bamboost does), and ``filter_names``:
  ``coll.filter(coll.k["n"] > T).all_simulation_names()`` (records without a data frame).

By hand (``HOME`` should be ``--home``: Python bamboost reads its configuration there):

    HOME=H target/pyenv/bin/python scripts/bench_index_python.py cold --home H --uid UID \
        --index DIR/python.sqlite
    HOME=H target/pyenv/bin/python scripts/bench_index_python.py query --home H --uid UID \
        --index DIR/python.sqlite [--repeat 5] [--threshold 50]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=["cold", "query"])
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--uid", required=True)
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--names-repeat", type=int, default=1)
    parser.add_argument("--threshold", type=int, default=50)
    args = parser.parse_args()

    # Everything imported before the clock starts.
    import bamboost
    import pandas  # noqa: F401
    from bamboost.core import Collection
    from bamboost.core.simulation.base import Simulation  # noqa: F401
    from bamboost.index import Index

    def log(message: str) -> None:
        print(f"[python] {message}", file=sys.stderr, flush=True)

    out: dict = {
        "bamboost": bamboost.__version__,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }
    search_paths = [args.home.as_posix()]

    if args.phase == "cold":
        args.index.unlink(missing_ok=True)
        t0 = time.perf_counter()
        index = Index(sql_file=args.index.as_posix(), search_paths=search_paths)
        index.scan_for_collections()
        t1 = time.perf_counter()
        index.sync_collection(args.uid)
        t2 = time.perf_counter()
        index._engine.dispose()
        out["cold_scan"] = [t1 - t0]
        out["cold_sync"] = [t2 - t1]
        out["cold_total"] = [t2 - t0]
        with sqlite3.connect(args.index) as conn:
            (out["indexed"],) = conn.execute(
                "SELECT count(*) FROM simulations WHERE collection_uid = ?", (args.uid,)
            ).fetchone()
        log(f"cold sync: {t2 - t0:.2f} s, {out['indexed']} simulations indexed")
        print(json.dumps(out))
        return

    out["warm"] = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        index = Index(sql_file=args.index.as_posix(), search_paths=search_paths)
        index.sync_collection(args.uid)
        out["warm"].append(time.perf_counter() - t0)
        index._engine.dispose()
    log(f"warm reopen: {statistics.median(out['warm']) * 1e3:.0f} ms")

    index = Index(sql_file=args.index.as_posix(), search_paths=search_paths)
    coll = Collection(uid=args.uid, index_instance=index, sync_collection=False)
    k = coll.k
    t = args.threshold
    series = {
        "df": lambda: coll.df,
        "filter_df": lambda: coll.filter(k["n"] > t).df,
        "filter2_df": lambda: coll.filter(k["n"] > t, k["solver"] == "cg").df,
    }
    for name, run in series.items():
        run()  # untimed once: warms SQLAlchemy's statement cache
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            frame = run()
            times.append(time.perf_counter() - t0)
        out[name] = times
        out[f"{name}_rows"] = len(frame)
        log(f"{name}: {statistics.median(times) * 1e3:.0f} ms, {len(frame)} rows")

    times = []
    for _ in range(args.names_repeat):
        t0 = time.perf_counter()
        names = coll.filter(k["n"] > t).all_simulation_names()
        times.append(time.perf_counter() - t0)
    out["filter_names"] = times
    out["filter_names_rows"] = len(names)
    log(f"filter_names: {statistics.median(times) * 1e3:.0f} ms, {len(names)} names")
    index._engine.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
