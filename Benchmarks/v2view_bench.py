#!/usr/bin/env python3
"""`tessera serve --v2-view`: v2-view chunk req/s against plain chunk req/s, same data, same client.

    python Benchmarks/v2view_bench.py [--quick] [--duration S] [--connections N] [--threads N] [--tessera PATH]

Also run by Benchmarks/gateway_bench.py (so by `make bench`) after its own section.

Data (made once into Benchmarks/.cache/v2view-bench/, remade when the parameters change): a
deterministic 1 x 2048 x 2048 uint16 TIFF converted with `tessera convert --ngff 0.5 --chunks
128 --shards 1024` (4 shards of 64 inner chunks each at level 0).

One `tessera serve --v2-view --access-log off` serves it. Two wrk workloads over the same
inner chunks of level 0, in the same order, each answered with the same bytes:
  plain   GET /bench/0/c/Y/X with `Range: bytes=A-B`, the inner chunk's span in its shard
          (what a v3 reader sends; the event-loop fast path answers it by pread/sendfile)
  v2view  GET /bench/v2/0/y/x: the same inner chunk as a Zarr v2 chunk (the responder
          finds the array, looks the chunk up in the cached shard index, and sends the
          bytes of one ranged read)
Before timing, every request of both lists is fetched once and the bodies compared: a
difference prints FAIL and exits 1. Printed: req/s and p99 of each, and v2view/plain.
Results: Benchmarks/.cache/last-v2view-bench.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
DATA = CACHE / "v2view-bench"
sys.path.insert(0, str(HERE))
from gateway_bench import ROOT, wrk_json, wrk_script  # noqa: E402
from harness.servers import GatewayServer  # noqa: E402

SHAPE = (2048, 2048)
CHUNK, SHARD = 128, 1024
SEED = 20261129
PARAMETERS = {"shape": list(SHAPE), "chunk": CHUNK, "shard": SHARD, "seed": SEED, "version": 1}


def ensure_data(tessera: Path) -> Path:
    """The converted image (made unless the cached one has these parameters)."""
    image = DATA / "image.ome.zarr"
    manifest = DATA / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()) == PARAMETERS and (image / "zarr.json").exists():
        return image
    import numpy as np
    import tifffile

    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    rng = np.random.default_rng(SEED)
    y, x = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    pixels = ((y * 7 + x * 3) % 4096 + rng.integers(0, 256, SHAPE)).astype(np.uint16)
    tifffile.imwrite(DATA / "image.tif", pixels)
    subprocess.run([str(tessera), "convert", str(DATA / "image.tif"), str(image), "--chunks", str(CHUNK),
                    "--shards", str(SHARD)], check=True, capture_output=True, timeout=600)
    (DATA / "image.tif").unlink()
    manifest.write_text(json.dumps(PARAMETERS))
    return image


def request_lists(image: Path):
    """([(key, range)] plain, [(key, None)] v2view): every stored inner chunk of level 0."""
    import numpy as np

    meta = json.loads((image / "0" / "zarr.json").read_text())
    conf = meta["codecs"][0]["configuration"]
    inner, shard_shape, shape = conf["chunk_shape"], meta["chunk_grid"]["configuration"]["chunk_shape"], meta["shape"]
    per = [s // i for s, i in zip(shard_shape, inner)]
    count = int(np.prod(per))
    plain, view = [], []
    for coords in np.ndindex(*[-(-n // i) for n, i in zip(shape, inner)]):
        shard = [c // p for c, p in zip(coords, per)]
        path = image / "0" / "c" / Path(*map(str, shard))
        raw = path.read_bytes()[-(16 * count + 4):-4]
        offset, length = struct.unpack_from("<QQ", raw, 16 * int(np.ravel_multi_index([c % p for c, p in zip(coords, per)], per)))
        if offset == 2**64 - 1:
            continue
        plain.append(("0/c/" + "/".join(map(str, shard)), f"bytes={offset}-{offset + length - 1}"))
        view.append(("v2/0/" + "/".join(map(str, coords)), None))
    return plain, view


def fetch(base: str, key: str, rng: str | None) -> bytes:
    req = urllib.request.Request(f"{base}/{ROOT}/{key}", headers={"Range": rng} if rng else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def run_wrk(args, base: str, script: Path, duration: int) -> dict:
    cmd = [args.wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s", "--latency",
           "--timeout", "5s", "-s", str(script), f"{base}/", "--", str(args.threads)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    j = wrk_json(r.stdout)
    if r.returncode != 0 or not j or not j["requests"]:
        raise RuntimeError(f"wrk failed: {(r.stderr or r.stdout).strip()[-1500:]}")
    bad = j["status"] + j["connect"] + j["read"] + j["write"] + j["timeout"]
    return {"rps": j["requests"] / (j["duration_us"] / 1e6), "p99_ms": j["p99_us"] / 1000, "errors": bad,
            "requests": j["requests"], "command": " ".join(cmd)}


def measure(args) -> int:
    image = ensure_data(args.tessera)
    plain, view = request_lists(image)
    server = GatewayServer(args.tessera, "--host", "127.0.0.1", "--v2-view", "--access-log", "off",
                           "--root", f"{ROOT}={image}")
    results = {}
    try:
        for (pk, pr), (vk, _) in zip(plain, view):
            if fetch(server.url, pk, pr) != fetch(server.url, vk, None):
                print(f"v2view_bench: FAIL: /{ROOT}/{vk} differs from /{ROOT}/{pk} {pr}", file=sys.stderr)
                return 1
        print(f"v2view_bench: {len(view)} inner chunks: v2-view bodies equal the plain ranged reads", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="v2view-bench-") as tmp:
            for name, requests in (("plain", plain), ("v2view", view)):
                script = Path(tmp) / f"{name}.lua"
                script.write_text(wrk_script(requests))
                if args.warmup > 0:
                    run_wrk(args, server.url, script, args.warmup)
                results[name] = run_wrk(args, server.url, script, args.duration)
    finally:
        code = server.stop()
    if code != 0:
        print(f"v2view_bench: FAIL: tessera serve exited {code}", file=sys.stderr)
        return 1
    ratio = results["v2view"]["rps"] / results["plain"]["rps"]
    print(f"v2 view (tessera serve --v2-view, wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"{len(view)} inner chunks of {CHUNK}x{CHUNK} uint16 in {SHARD}x{SHARD} shards):")
    for name, label in (("plain", "plain chunk (Range of the shard)"), ("v2view", "v2-view chunk (/v2/...)")):
        r = results[name]
        print(f"  {label:<34} {r['rps']:10.0f} req/s  p99 {r['p99_ms']:6.2f} ms  errors {r['errors']}")
    print(f"  v2-view / plain req/s: {ratio:.2f}x")
    CACHE.mkdir(exist_ok=True)
    (CACHE / "last-v2view-bench.json").write_text(json.dumps(
        {"data": PARAMETERS, "results": results, "ratio_v2view_to_plain": ratio}, indent=2))
    return 1 if any(r["errors"] for r in results.values()) else 0


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-up")
    ap.add_argument("--duration", type=int, default=None, help="seconds per measured wrk run (default 10; --quick 3)")
    ap.add_argument("--warmup", type=int, default=None, help="seconds of warm-up before each run (default 2; --quick 1)")
    ap.add_argument("--connections", type=int, default=64, help="wrk -c (default 64)")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    ap.add_argument("--tessera", type=Path, default=REPO / ".build" / "release" / "tessera")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    args.duration = args.duration or (3 if args.quick else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    args.tessera = args.tessera.absolute()
    if not os.access(args.tessera, os.X_OK):
        print(f"v2view_bench: FAIL: {args.tessera} is missing; build it with `make release` or pass --tessera", file=sys.stderr)
        return 1
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
