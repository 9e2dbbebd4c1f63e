"""Where the NGFF image of a `tessera convert` output lives.

A single image may sit at OUTPUT itself or, in the bioformats2raw layout, at OUTPUT/0
(which one depends on the input and on the Tessera version), so tests find it here
instead of hard-coding either path."""

from __future__ import annotations

import json
from pathlib import Path


def _metadata(path: Path) -> dict | None:
    p = Path(path) / "zarr.json"
    if p.is_file():
        return json.loads(p.read_text())
    for name, kind in ((".zarray", "array"), (".zgroup", "group")):
        if (Path(path) / name).is_file():
            return {"node_type": kind, "attributes": {}}
    return None


def _has_multiscales(path: Path) -> bool:
    meta = _metadata(path)
    if not meta:
        return False
    attrs = meta.get("attributes", {}) or {}
    if (Path(path) / ".zattrs").is_file():
        attrs = json.loads((Path(path) / ".zattrs").read_text())
    ome = attrs.get("ome") if isinstance(attrs.get("ome"), dict) else {}
    return "multiscales" in attrs or "multiscales" in ome


def image_root(out: Path) -> Path:
    """The image group of a single-image output: OUTPUT when it carries multiscales,
    else OUTPUT/0. For an unfinished output (no multiscales yet): OUTPUT when its level
    0 array is OUTPUT/0, else OUTPUT/0."""
    out = Path(out)
    if _has_multiscales(out):
        return out
    if _has_multiscales(out / "0"):
        return out / "0"
    level0 = _metadata(out / "0")
    if level0 is not None and level0.get("node_type") == "array":
        return out
    return out / "0"
