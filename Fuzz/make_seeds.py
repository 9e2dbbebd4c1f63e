"""Writes Fuzz/corpus: the seed inputs of `make fuzz`, built from issue 21's crafted
cases and from what zarr-python writes. Each file is one selector byte (see
Fuzz/ZarrFuzz/FuzzEntry.swift: 0 metadata, 1 + 4k shard for sharding k, 2 + 4k decoder
k, 3 a shard read through region reads, 0xF0 a DM3/DM4 file) followed by the stored object.

    .venv/bin/python Fuzz/make_seeds.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import zlib
from pathlib import Path

import numcodecs
import numpy as np
import zarr

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Tests" / "Conformance" / "support"))
import tessera_conformance as tc  # noqa: E402
from crafted_frames import zstd_raw_frame_declaring, zstd_rle_bomb  # noqa: E402
import dm_inputs  # noqa: E402

CORPUS = HERE / "corpus"
DATA = (np.arange(256, dtype=np.uint16).reshape(16, 16) * 37) % 1000


def put(name: str, selector: int, body: bytes) -> None:
    (CORPUS / name).write_bytes(bytes([selector]) + body)


def zarr_python_array(tmp: Path, name: str, codecs, shards=None):
    path = tmp / name
    zarr.create(shape=(16, 16), chunks=(16, 16), dtype="uint16", fill_value=0, store=str(path),
                zarr_format=3, codecs=codecs, overwrite=True)[...] = DATA
    return path


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    for old in CORPUS.iterdir():
        old.unlink()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        # --- metadata (selector 0)
        plain = zarr_python_array(tmp, "plain", [tc.c_bytes(), tc.c_zstd(3)])
        doc = json.loads((plain / "zarr.json").read_text())
        put("meta-v3-array", 0, json.dumps(doc).encode())
        v2 = tc.write_zarr_python_v2(tmp / "v2", DATA, tc.DTYPES_BY_ID["uint16"], (8, 8), {"id": "blosc", "cname": "lz4"})
        put("meta-v2-array", 0, (v2 / ".zarray").read_bytes())
        for i, (shape, chunks) in enumerate([([2**62, 2**62], [16, 16]), ([2**63 - 1], [1000]), ([2**62, 16], [2**62, 4])]):
            d = dict(doc, shape=shape)
            d["chunk_grid"] = {"name": "regular", "configuration": {"chunk_shape": chunks}}
            put(f"meta-overflow-{i}", 0, json.dumps(d).encode())
        put("meta-duplicate-shape", 0, b'{"shape": [4, 4], ' + json.dumps(doc).encode()[1:])
        put("meta-duplicate-escaped", 0, b'{"sha\\u0070e": [4, 4], ' + json.dumps(doc).encode()[1:])
        put("meta-deep", 0, b"[" * 600 + b"]" * 600)

        # --- shards (selector 1 + 4k), the three shardings of FuzzEntry.swift
        shardings = [
            tc.c_shard((4, 4), [tc.c_bytes(), tc.c_zstd(3)], "end"),
            tc.c_shard((8, 8), [tc.c_bytes(), tc.c_gzip(5)], "start"),
            tc.c_shard((16, 16), [tc.c_bytes(), tc.c_blosc("zstd", "noshuffle", 2), tc.c_crc32c()], "end"),
        ]
        for k, codec in enumerate(shardings):
            path = zarr_python_array(tmp, f"shard{k}", [codec])
            blob = (path / "c/0/0").read_bytes()
            put(f"shard-{k}", 1 + 4 * k, blob)
            if k == 0:
                put("store-shard-0", 3, blob)
                put("store-shard-0-truncated", 3, blob[: len(blob) // 2])
                huge = bytearray(blob)
                huge[-20:-12] = (2**62).to_bytes(8, "little")  # an index length far past the shard
                put("store-shard-0-huge-entry", 3, bytes(huge))

        # --- decoders (selector 2 + 4k): zstd, gzip, zlib, blosc, crc32c
        raw = DATA.tobytes()
        put("zstd-valid", 2, numcodecs.Zstd(3).encode(raw))
        put("zstd-declares-2p40", 2, zstd_raw_frame_declaring(2**40, bytes(512)))
        put("zstd-rle-bomb", 2, zstd_rle_bomb(8 << 20))
        put("gzip-valid", 2 + 4, numcodecs.GZip(5).encode(raw))
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        put("gzip-bomb", 2 + 4, z.compress(bytes(4 << 20)) + z.flush())
        put("zlib-valid", 2 + 8, zlib.compress(raw))
        put("blosc-valid", 2 + 12, numcodecs.Blosc("lz4", 5, 1).encode(raw))
        put("blosc-bomb", 2 + 12, numcodecs.Blosc("lz4", 9, 0).encode(np.zeros(1 << 20, dtype=np.uint8)))
        put("crc32c-valid", 2 + 16, raw + tc.crc32c(raw).to_bytes(4, "little"))
        # --- Gatan DM3/DM4 files (selector 0xF0): good ones of each version, and the damaged cases
        for version in (3, 4):
            good = dm_inputs.write_dm(tmp / f"good.dm{version}", DATA[:5, :7].astype(np.int16), version=version,
                                      cals=[(1.0, 0.5, "nm"), (0, 2.0, "µm")])
            put(f"dm{version}-valid", 0xF0, good.read_bytes())
        rgb = dm_inputs.write_dm(tmp / "rgb.dm4", np.zeros((3, 4, 3), np.uint8), version=4, rgb=True)
        put("dm4-rgb", 0xF0, rgb.read_bytes())
        for case in ("unknown-type", "huge-count", "depth-bomb", "truncated"):
            put(f"dm4-{case}", 0xF0, dm_inputs.bad_dm(tmp / f"{case}.dm4", case, version=4).read_bytes())
    print(f"wrote {len(list(CORPUS.iterdir()))} seeds to {CORPUS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
