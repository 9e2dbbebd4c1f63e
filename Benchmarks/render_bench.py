#!/usr/bin/env python3
"""The render benchmark (Docs/bench.md, section `render`; issue 20 plan §11).

    python Benchmarks/render_bench.py [--small] [--images N] [--requests N] [--tessera PATH]

1. Thumbnails: N different images (512² uint16, seeded content; default 1,000, --small 100),
   converted once by `tessera convert` into Benchmarks/.cache/render/. `tessera serve
   --render-cache DIR` (an empty DIR) answers `/thumbnail/` for each image once (cold:
   every one rendered) and again (cached: disk-cache hits), from a client at concurrency 4.
   Reported: thumbnails/s and p50/p99 latency per phase.
2. A 1024² region of a 16-bit image (8192², --small 4096; converted with Tessera's
   defaults) at level 0 with a p1/p99 window, as PNG (8-bit) and JPEG (q90): `/render/` at
   concurrency 2 against the Python peer (Benchmarks/render_peer.py: zarr-python read +
   np.percentile + numpy window + Pillow encode, PNG compress_level=1 and JPEG q90) in 2
   processes — the machine's 2 cores. Same random offsets for both. Tessera's side is
   driven by wrk (`-t2 -c2`, for --seconds, cycling the offsets' URLs with
   gateway_bench.py's Lua script), a C client, so the answers' client costs little CPU
   (the peer has no client at all: its jobs run in-process); any non-200 answer or socket
   error fails the bench. The server's CPU per render during that run is reported too.
   Ratio = Tessera's renders/s over the peer's (goal ≥ 5x). The peer at Pillow's default
   PNG level (6) is printed for information.

Results: Benchmarks/.cache/last-render-bench.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tifffile

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from gateway_bench import wrk_json, wrk_script  # noqa: E402
from harness.process import proc_cpu_seconds  # noqa: E402
from harness.servers import GatewayServer  # noqa: E402
import render_peer  # noqa: E402

CACHE = HERE / ".cache" / "render"
REGION = 1024


def small_images(tessera: str, n: int) -> Path:
    """N converted 512² uint16 images, cached (by count) in CACHE."""
    out = CACHE / f"thumbs-{n}"
    if (out / ".complete").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    tifs = CACHE / f"thumbs-{n}-tif"
    tifs.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:512, 0:512].astype(np.float32)
    for i in range(n):
        rng = np.random.default_rng(i)
        v = 20000 + 15000 * np.sin(x / (20 + i % 50)) * np.cos(y / (15 + i % 37)) + rng.normal(0, 500, (512, 512))
        tifffile.imwrite(tifs / f"img{i:04d}.tif", np.clip(v, 0, 65535).astype(np.uint16))
    out.mkdir(parents=True)
    subprocess.run([tessera, "convert", str(tifs), str(out)], check=True, capture_output=True)
    shutil.rmtree(tifs)
    (out / ".complete").write_text("")
    return out


def big_image(tessera: str, side: int) -> Path:
    out = CACHE / f"region-{side}.ome.zarr"
    if (out / "zarr.json").exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20)
    tif = CACHE / f"region-{side}.tif"
    rows = []
    for y0 in range(0, side, 1024):  # built in bands to bound memory
        y, x = np.mgrid[y0:y0 + 1024, 0:side].astype(np.float32)
        v = 20000 + 15000 * np.sin(x / 97) * np.cos(y / 61) + 8000 * (x / side) + rng.normal(0, 800, (1024, side))
        rows.append(np.clip(v, 0, 65535).astype(np.uint16))
    tifffile.imwrite(tif, np.concatenate(rows), tile=(256, 256))
    subprocess.run([tessera, "convert", str(tif), str(out)], check=True, capture_output=True)
    tif.unlink()
    return out


def fetch(url: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        body = r.read()
        assert r.status == 200
    return time.perf_counter() - t0, len(body)


def phase(urls: list[str], concurrency: int) -> dict:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(fetch, urls))
    wall = time.perf_counter() - t0
    lat = np.array([r[0] for r in results]) * 1000
    return {"n": len(urls), "wall_s": round(wall, 3), "per_s": round(len(urls) / wall, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 1), "p99_ms": round(float(np.percentile(lat, 99)), 1)}


def wrk_phase(wrk: str, srv: GatewayServer, paths: list[str], seconds: int) -> dict:
    """`wrk -t2 -c2` cycling `paths` for `seconds`; fails the bench on any answer that is
    not a 200 (wrk counts statuses over 399) or any socket error."""
    with tempfile.TemporaryDirectory(prefix="render-wrk-") as tmp:
        script = Path(tmp) / "render.lua"
        script.write_text(wrk_script([(p, None) for p in paths], prefix="/"))
        cmd = [wrk, "-t", "2", "-c", "2", "-d", f"{seconds}s", "--latency", "--timeout", "30s",
               "-s", str(script), f"{srv.url}/", "--", "2"]
        cpu0 = proc_cpu_seconds(srv.proc.pid)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
        cpu = proc_cpu_seconds(srv.proc.pid) - cpu0
    j = wrk_json(r.stdout)
    if r.returncode != 0 or not j or not j["requests"]:
        raise SystemExit(f"render_bench: FAIL: wrk exit status {r.returncode}: {(r.stderr or r.stdout).strip()[-1500:]}")
    bad = j["status"] + j["connect"] + j["read"] + j["write"] + j["timeout"]
    if bad:
        raise SystemExit(f"render_bench: FAIL: {j['status']} answers that are not 200 and "
                         f"{bad - j['status']} socket errors in {j['requests']} requests ({' '.join(cmd)})")
    n, wall = j["requests"], j["duration_us"] / 1e6
    return {"n": n, "wall_s": round(wall, 3), "per_s": round(n / wall, 1), "p50_ms": round(j["p50_us"] / 1000, 1),
            "p99_ms": round(j["p99_us"] / 1000, 1), "server_cpu_ms": round(1000 * cpu / n, 2),
            "bytes_per_answer": round(j["bytes"] / n), "command": " ".join(cmd[:-4] + ["render.lua", "URL/", "--", "2"])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--images", type=int)
    ap.add_argument("--requests", type=int)
    ap.add_argument("--side", type=int)
    ap.add_argument("--seconds", type=int, help="wrk's duration per region format (default 20, --small 8)")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--tessera", default=str(HERE.parent / ".build" / "release" / "tessera"))
    args = ap.parse_args(argv)
    n_images = args.images or (100 if args.small else 1000)
    n_requests = args.requests or (40 if args.small else 200)
    side = args.side or (4096 if args.small else 8192)
    seconds = args.seconds or (8 if args.small else 20)

    print(f"== render: {n_images} thumbnails (512² uint16), {n_requests} 1024² region renders of a {side}² uint16 image")
    thumbs = small_images(args.tessera, n_images)
    big = big_image(args.tessera, side)
    names = sorted(p.name for p in thumbs.iterdir() if p.name.endswith(".ome.zarr"))
    rng = np.random.default_rng(4)
    offsets = [(int(rng.integers(0, side - REGION)), int(rng.integers(0, side - REGION))) for _ in range(n_requests)]

    results: dict = {"images": n_images, "requests": n_requests, "side": side}
    with tempfile.TemporaryDirectory(prefix="render-cache-") as cache_dir:
        srv = GatewayServer(args.tessera, "--root", f"t={thumbs}", "--root", f"g={big.parent}", "--render-cache", cache_dir, "--access-log", "off")
        try:
            urls = [f"{srv.url}/thumbnail/t/{n}" for n in names]
            results["thumbnail_cold"] = phase(urls, 4)
            results["thumbnail_cached"] = phase(urls, 4)
            for fmt, query in (("png", "format=png"), ("jpeg", "format=jpeg&quality=90")):
                paths = [f"render/g/{big.name}?level=0&region={x},{y},{REGION},{REGION}&window=p1,p99&{query}"
                         for x, y in offsets]
                fetch(f"{srv.url}/{paths[0]}")  # warm the server's metadata caches
                results[f"tessera_{fmt}"] = wrk_phase(args.wrk, srv, paths, seconds)
        finally:
            srv.stop()
    for fmt, level in (("png", 1), ("jpeg", None), ("png6", 6)):
        jobs = [(str(big), x, y, "jpeg" if fmt == "jpeg" else "png", level) for x, y in offsets]
        with multiprocessing.get_context("spawn").Pool(2, initializer=render_peer.init, initargs=(str(big),)) as pool:
            pool.map(render_peer.render, jobs[:2])  # imports and zarr open, off the clock
            t0 = time.perf_counter()
            lat = pool.map(render_peer.render, jobs)
            wall = time.perf_counter() - t0
        lat_ms = np.array(lat) * 1000
        results[f"peer_{fmt}"] = {"n": len(jobs), "wall_s": round(wall, 3), "per_s": round(len(jobs) / wall, 1),
                                  "p50_ms": round(float(np.percentile(lat_ms, 50)), 1),
                                  "p99_ms": round(float(np.percentile(lat_ms, 99)), 1)}
    for fmt in ("png", "jpeg"):
        results[f"ratio_{fmt}"] = round(results[f"tessera_{fmt}"]["per_s"] / results[f"peer_{fmt}"]["per_s"], 2)

    print(f"{'what':<36}{'n':>6}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU ms':>11}")
    for key, label in (("thumbnail_cold", "thumbnails, cold (conc. 4)"), ("thumbnail_cached", "thumbnails, cached (conc. 4)"),
                       ("tessera_png", "tessera region PNG (wrk, conc. 2)"), ("peer_png", "peer region PNG lvl 1 (2 proc)"),
                       ("peer_png6", "peer region PNG lvl 6 (info)"),
                       ("tessera_jpeg", "tessera region JPEG (wrk, conc. 2)"), ("peer_jpeg", "peer region JPEG q90 (2 proc)")):
        r = results[key]
        cpu = r.get("server_cpu_ms")
        print(f"{label:<36}{r['n']:>6}{r['per_s']:>9}{r['p50_ms']:>9}{r['p99_ms']:>9}{cpu if cpu is not None else '':>11}")
    print(f"ratio PNG {results['ratio_png']}x, JPEG {results['ratio_jpeg']}x (goal >= 5x)")
    (HERE / ".cache").mkdir(exist_ok=True)
    (HERE / ".cache" / "last-render-bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
