#!/usr/bin/env python3
"""`tessera catalog add` at archive scale (issue 19): datasets recorded per second.

Writes N small NGFF 0.4 images (default 2,000; 40 folders, each image a 32x32 uint16 level 0
and a 16x16 level 1, one chunk each, an omero channel) and records the tree with
`tessera catalog add` into an empty SQLite catalogue and an empty PostgreSQL one (a throwaway
server from scripts/pg-test.sh, or --postgres URL; --no-postgres skips it). Each arm runs the
first add (everything new) and a second add (everything unchanged). Per run: wall time, the
command's CPU time (user + system, from the child's rusage), datasets/s by wall and by CPU,
and the 1-minute load average before the run (the machine is shared: compare ratios measured
in one run, e.g. --jobs 1 against the default, or two binaries with --tessera/--peer).

    python3 Benchmarks/catalog_add_bench.py [--datasets N] [--tessera PATH] [--peer PATH]
                                            [--jobs N] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The images the conformance test adds, one writer for the test and the bench.
sys.path.insert(0, str(REPO / "Tests" / "Conformance" / "catalog"))
from small_ngff import write_small_tree  # noqa: E402


def timed(command: list[str]) -> dict:
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return {"wall": wall, "cpu": cpu, "load": load, "summary": done.stderr.strip().splitlines()[-1:]}


def pg_start(folder: Path) -> str:
    done = subprocess.run([str(REPO / "scripts" / "pg-test.sh"), "start", str(folder)], capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"pg-test.sh start failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def pg_database(server: str) -> str:
    name = "add_" + uuid.uuid4().hex[:12]
    host_port = server.split("@", 1)[1].rstrip("/")
    host, port = host_port.rsplit(":", 1)
    subprocess.run(["psql", "-h", host, "-p", port, "-U", "tessera", "-d", "postgres", "-qc", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True, timeout=60)
    return server.rstrip("/") + "/" + name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=2000)
    parser.add_argument("--tessera", default=str(REPO / ".build" / "release" / "tessera"))
    parser.add_argument("--peer", help="another tessera binary measured in the same run (e.g. the previous build)")
    parser.add_argument("--jobs", type=int, help="passed as --jobs to --tessera (the peer gets none)")
    parser.add_argument("--postgres", help="postgres://USER@HOST:PORT/ of a running server")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    binaries = [("tessera", args.tessera, ["--jobs", str(args.jobs)] if args.jobs else [])]
    if args.peer:
        binaries.append(("peer", args.peer, []))
    scratch = Path(tempfile.mkdtemp(prefix="catalog-add-bench-"))
    scratch.chmod(0o755)  # the PostgreSQL server (its own user) lives in a folder under it
    pg_folder = None
    try:
        tree = scratch / "tree"
        write_small_tree(tree, args.datasets)
        server = None
        if not args.no_postgres:
            server = args.postgres
            if server is None:
                pg_folder = scratch / "pg"
                server = pg_start(pg_folder)
        print(f"{args.datasets} NGFF images; load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
        print(f"{'binary':8} {'store':9} {'run':6} {'wall s':>8} {'cpu s':>8} {'ds/s wall':>10} {'ds/cpu-s':>9} {'load':>6}")
        for label, binary, extra in binaries:
            arms = [("sqlite", None)] + ([("postgres", server)] if server else [])
            for store, url in arms:
                if url is None:
                    path = scratch / f"{label}.sqlite"
                    path.touch()
                    url = f"sqlite:{path}"
                else:
                    url = pg_database(url)
                for run in ("first", "again"):
                    r = timed([binary, "catalog", "add", str(tree), "--catalog", url] + extra)
                    print(f"{label:8} {store:9} {run:6} {r['wall']:8.2f} {r['cpu']:8.2f} "
                          f"{args.datasets / r['wall']:10.1f} {args.datasets / max(r['cpu'], 1e-9):9.1f} {r['load']:6.2f}")
                    print(f"         {' '.join(r['summary'])}")
    finally:
        if pg_folder is not None:
            subprocess.run([str(REPO / "scripts" / "pg-test.sh"), "stop", str(pg_folder)], capture_output=True, timeout=120)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
