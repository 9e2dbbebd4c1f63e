#!/usr/bin/env python3
"""PNG sizes: each Tessera binary's `render` output against zlib level 1 (Pillow's
`compress_level=1`) on the same filtered rows (Docs/render.md, "Encoders").

    python Benchmarks/png_sizes.py TESSERA [TESSERA ...]

Pictures: (a) the render benchmark's 1024² p1/p99 region (Benchmarks/.cache/render/
region-4096.ome.zarr, made by render_bench.py --small), (b) a smooth gradient, (c) a sparse
mostly-zero picture, (d) pure noise, (e) an RGB composite of three 16-bit channels,
(f) a 16-bit picture (--bits 16). Each binary renders each picture to PNG; the IDAT is
inflated (Python's zlib) and the same filtered rows compressed with zlib level 1.
Printed: IDAT bytes per binary and for zlib, and each binary's size over zlib's.
"""
from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import tifffile

HERE = Path(__file__).resolve().parent
BENCH_IMAGE = HERE / ".cache" / "render" / "region-4096.ome.zarr"
SIDE = 1024


def pictures(rng):
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
    spots = np.zeros((SIDE, SIDE), np.uint16)
    for _ in range(300):
        cy, cx = rng.integers(8, SIDE - 8, 2)
        spots[cy - 3:cy + 4, cx - 3:cx + 4] = rng.integers(500, 4000, (7, 7))
    smooth16 = 20000 + 15000 * np.sin(x / 97) * np.cos(y / 61) + rng.normal(0, 800, (SIDE, SIDE))
    return {
        "gradient": ((x + 0.5 * y) * 65535 / (1.5 * SIDE)).astype(np.uint16),
        "sparse": spots,
        "noise": rng.integers(0, 65536, (SIDE, SIDE), dtype=np.uint16),
        "rgb": np.stack([np.clip(smooth16 * (0.6 + 0.2 * c) + rng.normal(0, 300, (SIDE, SIDE)), 0, 65535)
                         for c in range(3)]).astype(np.uint16),
        "16-bit": np.clip(smooth16, 0, 65535).astype(np.uint16),
    }


def idat(png: bytes) -> bytes:
    i, out = 8, b""
    while i < len(png):
        (n,) = struct.unpack(">I", png[i:i + 4])
        if png[i + 4:i + 8] == b"IDAT":
            out += png[i + 8:i + 8 + n]
        i += 12 + n
    return out


def render(binary: str, image: Path, out: Path, args: list[str]) -> bytes:
    proc = subprocess.run([binary, "render", str(image), str(out), "--overwrite", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{binary} render {image.name} failed: {proc.stderr}")
    return idat(out.read_bytes())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tessera", nargs="+")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases = []
        if (BENCH_IMAGE / "zarr.json").exists():
            cases.append(("bench", BENCH_IMAGE, ["--region", "1500,1200,1024,1024", "--window", "p1,p99"]))
        else:
            print(f"{BENCH_IMAGE} is missing (render_bench.py --small makes it): case (a) skipped", file=sys.stderr)
        for name, array in pictures(np.random.default_rng(9)).items():
            tif = tmp / f"{name}.tif"
            flags = ["--pages-as", "c"] if array.ndim == 3 else []
            tifffile.imwrite(tif, array, photometric="minisblack")
            subprocess.run([args.tessera[0], "convert", str(tif), str(tmp / f"{name}.ome.zarr"), *flags],
                           check=True, capture_output=True)
            render_args = ["--level", "0", "--window", "p1,p99"]
            if name == "16-bit":
                render_args = ["--level", "0", "--bits", "16", "--window", "none"]
            cases.append((name, tmp / f"{name}.ome.zarr", render_args))

        print(f"{'picture':10} {'rows':>9} {'zlib -1':>9} " + " ".join(f"{Path(b).name + ' #' + str(i):>16}" for i, b in enumerate(args.tessera)))
        for name, image, render_args in cases:
            streams = [render(b, image, tmp / "out.png", render_args) for b in args.tessera]
            rows = zlib.decompress(streams[0])
            for s in streams[1:]:
                assert zlib.decompress(s) == rows, f"{name}: binaries disagree on the rows"
            reference = len(zlib.compress(rows, 1))
            cells = " ".join(f"{len(s):>9} ({len(s) / reference:4.2f})" for s in streams)
            print(f"{name:10} {len(rows):>9} {reference:>9} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
