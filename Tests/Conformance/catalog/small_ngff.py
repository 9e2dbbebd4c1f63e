"""Small NGFF 0.4 images written as plain files (no zarr-python: thousands take seconds), for
`catalog add` at scale: the conformance test (test_catalog_add.py) and the benchmark
(Benchmarks/catalog_add_bench.py). Each image: a 32x32 uint16 level 0 and a 16x16 level 1,
one uncompressed chunk each, named `image-{index}`, one omero channel."""

from __future__ import annotations

import json
from pathlib import Path


def write_small_ngff(folder: Path, index: int):
    folder.mkdir(parents=True)
    (folder / ".zgroup").write_text('{"zarr_format": 2}')
    datasets = [{"path": str(level), "coordinateTransformations": [{"type": "scale", "scale": [0.5 * 2 ** level] * 2}]}
                for level in (0, 1)]
    attrs = {"multiscales": [{"version": "0.4", "name": f"image-{index}", "datasets": datasets,
                              "axes": [{"name": "y", "type": "space", "unit": "micrometer"},
                                       {"name": "x", "type": "space", "unit": "micrometer"}]}],
             "omero": {"channels": [{"label": f"channel-{index % 7}", "color": "00FF00",
                                     "window": {"min": 0, "max": 4095, "start": 0, "end": 4095}}]}}
    (folder / ".zattrs").write_text(json.dumps(attrs))
    for level, side in ((0, 32), (1, 16)):
        array = folder / str(level)
        array.mkdir()
        (array / ".zarray").write_text(json.dumps({
            "zarr_format": 2, "shape": [side, side], "chunks": [side, side], "dtype": "<u2", "order": "C",
            "compressor": None, "fill_value": 0, "filters": None, "dimension_separator": "."}))
        (array / "0.0").write_bytes(bytes(side * side * 2))


def write_small_tree(root: Path, count: int, folders: int = 40) -> list[Path]:
    """`count` images spread over `folders` subfolders; returns their folders."""
    places = [root / f"run{i % folders:02d}" / f"image{i:05d}.ome.zarr" for i in range(count)]
    for i, place in enumerate(places):
        write_small_ngff(place, i)
    return places
