"""`tessera copy` to smaller chunks decodes each source chunk once.

A destination chunk smaller than a source chunk (or, in a sharded source, than an inner
chunk) needs only part of it, so several destination chunks read the same source chunk.
The copy visits destination chunks grouped by the source chunk they read, and keeps
decoded source chunks in a small bounded cache meanwhile (Sources/Conversion/Copy/
CopyWorkList.swift, Sources/ZarrCore/Array/DecodedChunkCache.swift). Its summary line
says how many source chunks it decoded: here exactly the number stored, with several
workers, and the copy's pixels are exact (read back by zarr-python).

Sources are small (64^3 uint16, 512 KiB), written by zarr-python 3.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

SHAPE = (64, 64, 64)
DECODED = re.compile(r"(\d+) source chunks decoded")


def data() -> np.ndarray:
    rng = np.random.default_rng(5)
    return rng.integers(1, 60000, size=SHAPE, dtype=np.uint16)  # no fill-only chunk anywhere


def write_source(path: Path, fmt: int, chunks, shards=None) -> np.ndarray:
    import zarr

    values = data()
    arr = zarr.create_array(store=str(path), shape=SHAPE, dtype="uint16", chunks=chunks, shards=shards,
                            zarr_format=fmt, fill_value=0)
    arr[...] = values
    return values


def decoded(proc) -> int:
    m = DECODED.search(proc.stderr + proc.stdout)
    assert m, f"copy's summary does not say how many source chunks it decoded:\n{proc.stderr[-1500:]}"
    return int(m.group(1))


def read_back(path: Path, fmt: int) -> np.ndarray:
    import zarr

    return zarr.open_array(str(path), mode="r", zarr_format=fmt)[...]


@pytest.mark.parametrize("jobs", [1, 4])
@pytest.mark.parametrize("case", [
    # (name, source format, source chunks, source shards, destination options, decode units stored)
    ("sharded-to-v2-8", 3, (16, 16, 16), (32, 32, 32), ["--zarr-format", "2", "--chunks", "8,8,8"], 64),
    ("sharded-to-sharded-8", 3, (16, 16, 16), (64, 64, 64), ["--chunks", "8,8,8", "--shards", "32,32,32"], 64),
    ("v2-to-v2-slabs", 2, (32, 32, 32), None, ["--chunks", "32,8,32"], 8),
], ids=lambda c: c[0] if isinstance(c, tuple) else None)
def test_each_source_chunk_is_decoded_once(run_tessera, tmp_path, case, jobs):
    _, fmt, chunks, shards, options, units = case
    src, dst = tmp_path / "src.zarr", tmp_path / "dst.zarr"
    values = write_source(src, fmt, chunks, shards)
    proc = run_tessera.copy(src, dst, *options, "--jobs", str(jobs), check=True)
    assert decoded(proc) == units, f"{units} source chunks stored, {decoded(proc)} decoded"
    out_fmt = 2 if "2" in options[:2] else fmt
    np.testing.assert_array_equal(read_back(dst, out_fmt), values)


def test_straddling_chunks_copy_exactly(run_tessera, tmp_path):
    """Destination chunks that straddle source chunks (24 over 16): each may need
    several source chunks; the copy is exact and decodes no more than one per
    (destination chunk, source chunk) pair."""
    src, dst = tmp_path / "src.zarr", tmp_path / "dst.zarr"
    values = write_source(src, 3, (16, 16, 16), (32, 32, 32))
    proc = run_tessera.copy(src, dst, "--zarr-format", "2", "--chunks", "24,24,24", "--jobs", "3", check=True)
    assert 64 <= decoded(proc) <= 27 * 8
    np.testing.assert_array_equal(read_back(dst, 2), values)
