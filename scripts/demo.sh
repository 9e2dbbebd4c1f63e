#!/usr/bin/env bash
# `make demo`: zarr-python writes a Zarr v2 image the way many existing pipelines do
# (small chunks, one object each), Tessera re-encodes it as Zarr v3 with shards, and
# `tessera info` shows both.
set -euo pipefail
cd "$(dirname "$0")/.."
tessera=${1:-.build/release/tessera}
mkdir -p demo
rm -rf demo/source-v2.zarr demo/sharded-v3.zarr
.venv/bin/python - <<'PY'
import numpy as np, zarr
z, y, x = 64, 512, 512
zz, yy, xx = np.mgrid[0:z, 0:y, 0:x].astype(np.float32)
cells = (np.sin(xx / 23) * np.cos(yy / 17) * np.sin(zz / 11) + 1) * 20000
noise = np.random.default_rng(0).normal(0, 400, cells.shape)
image = (cells + noise).clip(0, 65535).astype("uint16")
arr = zarr.create_array("demo/source-v2.zarr", shape=image.shape, chunks=(16, 64, 64), dtype="uint16",
                        zarr_format=2, chunk_key_encoding={"name": "v2", "separator": "/"})
arr[:] = image
print(f"zarr-python wrote demo/source-v2.zarr: {image.shape} uint16")
PY
"$tessera" info demo/source-v2.zarr
"$tessera" copy demo/source-v2.zarr demo/sharded-v3.zarr --zarr-format 3 --chunks 32,128,128 --shards 32,256,256 --codec blosc-zstd
"$tessera" info demo/sharded-v3.zarr
