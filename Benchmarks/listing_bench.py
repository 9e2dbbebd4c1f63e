#!/usr/bin/env python3
"""`make bench` section `listing`: `tessera info` over stores of many objects.

    python Benchmarks/listing_bench.py [--small] [--local N] [--s3 N] [--tessera PATH] [--keep]

Two workloads, both `tessera info --summary --json` with the release build, measured by
Benchmarks/harness/process.py (the tool's own ru_maxrss):
  local  a folder store of N objects (1,000,000; 100,000 with --small): one Zarr v3 array
         of [1, 1] chunks, 1,000 to a folder, written as empty files by a threaded helper
         (Tests/Conformance/support/many_objects.py), removed afterwards.
  s3     an S3 prefix of N objects (100,000; 10,000 with --small) on moto: moto runs in this
         process (moto.server.ThreadedMotoServer) and the objects are put straight into its
         backend — 10^5 PUTs over HTTP would take minutes against moto's ~250 a second —
         while Tessera lists them over HTTP, 1,000 keys a page, like any S3 client.
Goals: peak RSS under 100 MiB for both, progress lines shown on stderr (one a second), and
the totals exact (objects and bytes per array, as written). Results go to
Benchmarks/.cache/last-listing-bench.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness.process import run_measured  # noqa: E402
from harness.section import Section, run_section  # noqa: E402
from harness.servers import free_port  # noqa: E402 (also puts Tests/Conformance/support on sys.path)
import many_objects as mo  # noqa: E402

CACHE = HERE / ".cache"
GOAL_MIB = 100
ARRAY = "image.ome.zarr/0"
BUCKET = "tessera-listing-bench"


class InProcessMoto:
    """moto's S3 server on a thread of this process, so objects can be put straight into
    its backend; Tessera still talks to it over HTTP on 127.0.0.1."""

    def __init__(self):
        from moto.server import ThreadedMotoServer
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def create_bucket(self, name):
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/{name}", method="PUT"), timeout=30).read()

    def put_all(self, bucket, prefix, objects) -> int:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        n = 0
        for key, data in objects():
            backend.put_object(bucket, f"{prefix}/{key}", data)
            n += 1
        return n

    def env(self):
        return {**os.environ, "AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}

    def stop(self):
        self.server.stop()


class ListingBench(Section):
    def __init__(self, args):
        super().__init__(args)
        self.steps_total = 4

    def conditions(self):
        return f"{os.cpu_count()} CPUs, tessera {self.git or '?'}"

    def info(self, what, location, totals, env=None):
        """`tessera info --summary --json` of `location`, measured and checked."""
        r = run_measured([str(self.args.tessera), "info", str(location), "--summary", "--json"], self.args.timeout, env=env)
        if r["rc"] != 0:
            self.fail(f"{what}: exit {r['rc']}: {r['stderr'].strip()[-400:]}")
            return
        doc = json.loads(r["stdout"])
        got = {a["path"]: (a["objects"], a["stored_bytes"]) for a in doc["arrays"]}
        want = {p: tuple(v) for p, v in totals["arrays"].items()}
        if got != want:
            self.fail(f"{what}: info counted {got}, the store holds {want}")
        progress = [line for line in r["stderr"].splitlines() if re.match(r"info: listing… \d+ objects", line)]
        rss = r["maxrss_kib"] / 1024
        row = {"objects": doc["objects"], "wall_s": r["wall"], "peak_rss_mib": rss, "progress_lines": len(progress),
               "last_progress": progress[-1] if progress else None, "cpu_s": r["time"].get("user_s", 0) + r["time"].get("sys_s", 0)}
        self.rows[what] = row
        self.progress(what, f"{doc['objects']} objects in {r['wall']:.1f} s, peak RSS {rss:.1f} MiB, "
                            f"{len(progress)} progress lines")
        if rss >= GOAL_MIB:
            self.fail(f"{what}: peak RSS {rss:.0f} MiB >= {GOAL_MIB} MiB")
        if not progress and r["wall"] > 1.5:
            self.fail(f"{what}: {r['wall']:.1f} s of listing without a progress line")

    def measure(self):
        a = self.args
        CACHE.mkdir(exist_ok=True)
        with self.workdir("listing-", CACHE) as work:
            objects, totals = mo.layout({ARRAY: a.local}, chunk=b"")
            self.progress("local: write", f"{a.local} empty chunk files")
            mo.write_folder(work / "many.zarr", objects, threads=8)
            self.info("local", work / "many.zarr", totals)
        self.progress("s3: put", f"{a.s3} objects into moto's backend")
        server = InProcessMoto()
        try:
            server.create_bucket(BUCKET)
            objects, totals = mo.layout({ARRAY: a.s3}, chunk=b"")
            server.put_all(BUCKET, "many.zarr", objects)
            self.info("s3", f"s3://{BUCKET}/many.zarr", totals, env=server.env())
        finally:
            server.stop()

    def table_lines(self):
        lines = [f"tessera info --summary over many objects ({self.conditions()}); goal: peak RSS < {GOAL_MIB} MiB, progress shown",
                 f"{'store':8} {'objects':>10} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13} {'progress lines':>15}"]
        for what, r in self.rows.items():
            lines.append(f"{what:8} {r['objects']:>10} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} {r['peak_rss_mib']:>13.1f} "
                         f"{r['progress_lines']:>15}")
        for what, r in self.rows.items():
            if r["last_progress"]:
                lines.append(f"{what}: last progress line: {r['last_progress']}")
        return lines

    def document(self):
        return {"listing": self.rows, "goal_peak_rss_mib": GOAL_MIB}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="100,000 local objects and 10,000 on S3")
    ap.add_argument("--local", type=int, default=None, help="objects in the folder store (default 1,000,000)")
    ap.add_argument("--s3", type=int, default=None, help="objects under the S3 prefix (default 100,000)")
    ap.add_argument("--tessera", type=Path, default=HERE.parent / ".build" / "release" / "tessera")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    args.local = args.local or (100_000 if args.small else 1_000_000)
    args.s3 = args.s3 or (10_000 if args.small else 100_000)
    args.tessera = args.tessera.absolute()
    return run_section(ListingBench(args), CACHE / "last-listing-bench.json")


if __name__ == "__main__":
    sys.exit(main())
