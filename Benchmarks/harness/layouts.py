"""The Zarr layouts the io and s3 sections ask every tool for, and the check that a tool
wrote exactly that: the written metadata, normalised (spec defaults filled in, cosmetic
fields dropped), compared field by field with the expected one."""

from __future__ import annotations

import json
from pathlib import Path


def expected_metadata(layout, shape):
    """The key fields every tool's output must have, in normalised form."""
    if layout == "v3-blosc-zstd-sharded":
        return {
            "zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": "uint16",
            "chunk_grid": {"name": "regular", "chunk_shape": [64, 512, 512]},
            "chunk_key_encoding": {"name": "default", "separator": "/"},
            "fill_value": 0,
            "codecs": [{
                "name": "sharding_indexed",
                "chunk_shape": [64, 64, 64],
                "codecs": [
                    {"name": "bytes", "endian": "little"},
                    {"name": "blosc", "cname": "zstd", "clevel": 5, "shuffle": "shuffle", "typesize": 2, "blocksize": 0},
                ],
                "index_codecs": [{"name": "bytes", "endian": "little"}, {"name": "crc32c"}],
                "index_location": "end",
            }],
            "storage_transformers": [],
        }
    if layout == "v2-blosc-lz4":
        return {
            "zarr_format": 2, "shape": list(shape), "chunks": [64, 64, 64], "dtype": "<u2",
            "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
            "filters": None, "fill_value": 0, "order": "C", "dimension_separator": "/",
        }
    raise ValueError(layout)


def _norm_codec(c):
    name = c.get("name")
    conf = dict(c.get("configuration") or {})
    out = {"name": name}
    if name == "sharding_indexed":
        out["chunk_shape"] = conf.get("chunk_shape")
        out["codecs"] = [_norm_codec(x) for x in conf.get("codecs", [])]
        out["index_codecs"] = [_norm_codec(x) for x in conf.get("index_codecs", [])]
        out["index_location"] = conf.get("index_location", "end")  # spec default
    else:
        out.update(conf)
    return out


def normalised_metadata(folder):
    """Key fields of the array metadata at `folder` (v3 zarr.json or v2 .zarray), see
    `normalise`; None when neither file is there."""
    for name in ("zarr.json", ".zarray"):
        path = Path(folder) / name
        if path.exists():
            return normalise(json.loads(path.read_text()), v3=name == "zarr.json")
    return None


def normalise(m, v3):
    """Key fields of one array metadata document (`v3`: a zarr.json, else a .zarray), with
    spec defaults filled in and cosmetic fields (attributes, dimension_names) dropped."""
    if v3:
        grid = m.get("chunk_grid", {})
        cke = m.get("chunk_key_encoding", {})
        sep_default = "/" if cke.get("name") == "default" else "."
        return {
            "zarr_format": m.get("zarr_format"), "node_type": m.get("node_type"),
            "shape": m.get("shape"), "data_type": m.get("data_type"),
            "chunk_grid": {"name": grid.get("name"), **(grid.get("configuration") or {})},
            "chunk_key_encoding": {"name": cke.get("name"),
                                   "separator": (cke.get("configuration") or {}).get("separator", sep_default)},
            "fill_value": m.get("fill_value"),
            "codecs": [_norm_codec(c) for c in m.get("codecs", [])],
            "storage_transformers": m.get("storage_transformers", []),
        }
    return {
        "zarr_format": m.get("zarr_format"), "shape": m.get("shape"), "chunks": m.get("chunks"),
        "dtype": m.get("dtype"), "compressor": m.get("compressor"),
        "filters": m.get("filters") or None, "fill_value": m.get("fill_value"),
        "order": m.get("order"), "dimension_separator": m.get("dimension_separator", "."),
    }


def layout_differences(got, want, path=""):
    """Human-readable list of differences between two normalised metadata trees."""
    if isinstance(want, dict) and isinstance(got, dict):
        diffs = []
        for k in sorted(set(want) | set(got)):
            diffs += layout_differences(got.get(k, "<missing>"), want.get(k, "<missing>"), f"{path}.{k}" if path else k)
        return diffs
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        diffs = []
        for i, (g, w) in enumerate(zip(got, want)):
            diffs += layout_differences(g, w, f"{path}[{i}]")
        return diffs
    return [] if got == want else [f"{path}: got {got!r}, want {want!r}"]
