"""A first number for issue 20's must-show 4 (not yet a `make bench` section): render a
1024x1024 region of a 16-bit NGFF image with a p1/p99 window to an 8-bit PNG. Tessera in
one warm process (`tessera-bench render`, as the gateway will run it) and as
`tessera render` (one process per render, start-up included), against a Python peer doing
the same job in one warm process (zarr-python read + np.percentile + numpy window + Pillow
PNG at compress_level 1, and at Pillow's default 6 for information).

Usage: python Benchmarks/render_region_probe.py TESSERA_BIN WORKDIR [N]
(tessera-bench is taken from beside TESSERA_BIN: build both with -c release).
The input (4096x4096 uint16, converted once by Tessera with its defaults) is cached in WORKDIR.
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tifffile
import zarr
from PIL import Image

SIDE, REGION = 4096, 1024


def make_input(tessera: str, work: Path) -> Path:
    out = work / "render16.ome.zarr"
    if (out / "zarr.json").exists():
        return out
    rng = np.random.default_rng(20)
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    v = 20000 + 15000 * np.sin(x / 97) * np.cos(y / 61) + 8000 * (x / SIDE) + rng.normal(0, 800, (SIDE, SIDE))
    tif = work / "render16.tif"
    tifffile.imwrite(tif, np.clip(v, 0, 65535).astype(np.uint16))
    subprocess.run([tessera, "convert", str(tif), str(out)], check=True, capture_output=True)
    return out


def peer(level0, x, y, compress_level) -> int:
    plane = level0[y:y + REGION, x:x + REGION]
    lo, hi = np.percentile(plane, [1, 99])
    v = np.clip((plane.astype(np.float64) - lo) / (hi - lo), 0, 1)
    picture = np.floor(v * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, "PNG", compress_level=compress_level)
    return buf.tell()


def main() -> None:
    tessera, work = sys.argv[1], Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    work.mkdir(parents=True, exist_ok=True)
    image = make_input(tessera, work)
    rng = np.random.default_rng(4)
    offsets = [(int(rng.integers(0, SIDE - REGION)), int(rng.integers(0, SIDE - REGION))) for _ in range(n)]

    def children_cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    start, cpu0 = time.perf_counter(), children_cpu()
    for x, y in offsets:
        subprocess.run([tessera, "render", str(image), str(work / "out.png"), "--overwrite", "--level", "0",
                        "--region", f"{x},{y},{REGION},{REGION}", "--window", "p1,p99"], check=True, capture_output=True)
    tessera_s = (time.perf_counter() - start) / n
    tessera_cpu = (children_cpu() - cpu0) / n

    bench = Path(tessera).with_name("tessera-bench")
    regions = ";".join(f"{x},{y}" for x, y in offsets)
    line = subprocess.run([str(bench), "render", "--image", str(image), "--side", str(REGION), "--regions", regions,
                           "--query", "window=p1,p99&format=png"], check=True, capture_output=True, text=True).stdout
    warm = json.loads(line)
    warm_cpu = warm["cpu_seconds_per_render"]

    level0 = zarr.open_group(str(image), mode="r")["0"]
    results = {}
    for level in (1, 6):
        peer(level0, 0, 0, level)  # warm up
        start, cpu0 = time.perf_counter(), time.process_time()
        for x, y in offsets:
            peer(level0, x, y, level)
        results[level] = ((time.perf_counter() - start) / n, (time.process_time() - cpu0) / n)
    print(f"1024x1024 uint16 region -> 8-bit PNG, p1/p99 window, {n} random offsets, sequential "
          "(wall and CPU ms per render; CPU is the fairer number on a shared machine):")
    print(f"  tessera render (CLI, process per render): wall {tessera_s * 1e3:.1f}, CPU {tessera_cpu * 1e3:.1f}")
    w = warm["seconds_per_render"]
    stages = ", ".join(f"{k} {v * 1e3:.1f}" for k, v in warm["stages"].items())
    print(f"  tessera-bench render (warm process): wall {w * 1e3:.1f}, CPU {warm_cpu * 1e3:.1f} "
          f"(renders only); stages ms, separate passes: {stages}")
    for level, (wall, cpu) in results.items():
        print(f"  python peer, Pillow compress_level={level} (warm process): wall {wall * 1e3:.1f}, CPU {cpu * 1e3:.1f}"
              f" -> warm tessera {wall / w:.2f}x wall, {cpu / warm_cpu:.2f}x CPU; CLI {wall / tessera_s:.2f}x wall, {cpu / tessera_cpu:.2f}x CPU")


if __name__ == "__main__":
    main()
