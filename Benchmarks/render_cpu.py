#!/usr/bin/env python3
"""CPU time per region render, Tessera's gateway against the Python peer (Docs/bench.md,
section `render`): the same 1024² p1/p99 renders as render_bench.py, one at a time.

    python Benchmarks/render_cpu.py [--side 4096] [--requests 40] TESSERA [TESSERA ...]

For each binary: `tessera serve` answers N `/render/` requests in turn; its utime+stime
(/proc/PID/stat) before and after, over N. The peer (render_peer.py) runs the same jobs
in this process, timed with `time.process_time` (which counts its decoder threads). CPU
time, not wall time, because the machine is shared; ratio = peer CPU / Tessera CPU.
The image is render_bench.py's (made there first: `render_bench.py --small` for 4096²).
"""
from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness.process import proc_cpu_seconds  # noqa: E402
from harness.servers import GatewayServer  # noqa: E402
import render_peer  # noqa: E402

QUERIES = {"png": "format=png", "jpeg": "format=jpeg&quality=90"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--side", type=int, default=4096)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("tessera", nargs="+")
    args = ap.parse_args(argv)
    image = HERE / ".cache" / "render" / f"region-{args.side}.ome.zarr"
    if not (image / "zarr.json").exists():
        sys.exit(f"{image} is missing: run render_bench.py first")
    rng = np.random.default_rng(4)
    offsets = [(int(rng.integers(0, args.side - 1024)), int(rng.integers(0, args.side - 1024))) for _ in range(args.requests)]
    rows = []
    for binary in args.tessera:
        srv = GatewayServer(binary, "--root", f"g={image.parent}", "--access-log", "off")
        try:
            for fmt, query in QUERIES.items():
                urls = [f"{srv.url}/render/g/{image.name}?level=0&region={x},{y},1024,1024&window=p1,p99&{query}" for x, y in offsets]
                for url in urls[:2]:  # metadata and first-use costs off the clock
                    urllib.request.urlopen(url, timeout=120).read()
                before = proc_cpu_seconds(srv.proc.pid)
                for url in urls:
                    urllib.request.urlopen(url, timeout=120).read()
                rows.append((binary, fmt, 1000 * (proc_cpu_seconds(srv.proc.pid) - before) / len(urls)))
        finally:
            srv.stop()
    render_peer.init(str(image))
    peer = {}
    for fmt, level in (("png", 1), ("jpeg", None)):
        jobs = [(str(image), x, y, fmt, level) for x, y in offsets]
        render_peer.render(jobs[0])
        before = time.process_time()
        for job in jobs:
            render_peer.render(job)
        peer[fmt] = 1000 * (time.process_time() - before) / len(jobs)
    print(f"{'who':<48}{'format':>7}{'CPU ms/render':>15}{'peer/it':>9}")
    for binary, fmt, ms in rows:
        print(f"{binary:<48}{fmt:>7}{ms:>15.1f}{peer[fmt] / ms:>9.2f}")
    for fmt, ms in peer.items():
        print(f"{'peer (zarr-python + numpy + Pillow)':<48}{fmt:>7}{ms:>15.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
