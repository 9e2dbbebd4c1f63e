"""Size of the stored statistics (`{image}/.tessera-stats.bin`) for noisy 2048² images,
written by two Tessera binaries (e.g. the previous release's, version 1, and this one's,
version 2); prints the table of Docs/render.md, "Stored statistics".

    python Benchmarks/stats_size.py OLD_TESSERA NEW_TESSERA
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import tifffile


def images():
    rng = np.random.default_rng(0)
    n = (2048, 2048)
    return {
        "uint16 uniform 0–65535 (every bin)": rng.integers(0, 65536, n, dtype=np.uint16),
        "uint16 normal(30000, 3000)": rng.normal(30000, 3000, n).clip(0, 65535).astype(np.uint16),
        "uint16 normal(1000, 30) (a camera's dark frame)": rng.normal(1000, 30, n).clip(0, 65535).astype(np.uint16),
        "float32 normal(0, 1) (keyed)": rng.normal(0, 1, n).astype(np.float32),
    }


def main(old: str, new: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        print("| 2048² image | non-empty bins | version 1 | version 2 | |\n|---|---:|---:|---:|---:|")
        for i, (name, a) in enumerate(images().items()):
            tif = root / f"{i}.tif"
            tifffile.imwrite(tif, a, photometric="minisblack")
            sizes = []
            for k, binary in enumerate((old, new)):
                out = root / f"{i}-{k}.ome.zarr"
                subprocess.run([binary, "convert", str(tif), str(out)], check=True, capture_output=True)
                sizes.append(len((out / ".tessera-stats.bin").read_bytes()))
            bins = f"{len(np.unique(a)):,}" if a.dtype != np.float32 else "—"
            print(f"| {name} | {bins} | {sizes[0]:,} | {sizes[1]:,} | {sizes[0] / sizes[1]:.1f}× |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
