"""Whole-slide test inputs written at test time by tifffile, and the reference reading of
them by openslide-python (+ openslide-bin, OpenSlide 4.x).

`write_svs` follows the recipe OpenSlide's aperio driver recognises (plan, checked with
Debian's OpenSlide 3.4.1): every page written with `metadata=None` (otherwise tifffile's own
JSON description is the one OpenSlide sees and the file opens as generic TIFF); page 0 tiled
JPEG with an "Aperio Image Library" description whose `|key = value` pairs carry MPP and
AppMag; page 1 a stripped thumbnail; further tiled pages are pyramid levels; label and
macro are stripped pages whose description's second line (after a plain `\n`: 3.4.1 splits
`\r\n` into an empty line and loses the image) starts with the image's name.

`write_generic_tiff`: tiled JPEG pages as successive top-level IFDs (3.4.1 ignores SubIFDs),
what OpenSlide calls `generic-tiff`.

The damaged variants (`truncated`, `tile_offsets_out_of_range`, `undecodable_tiles`) are made
from a good file by rewriting bytes.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

APERIO = "Aperio Image Library v12.0.0"
MPP = 0.4990


def tissue(height: int, width: int, seed: int = 0) -> np.ndarray:
    """(height, width, 3) uint8 that JPEG-compresses like stained tissue: textured pink and
    purple islands on a white background, not noise and not flat."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    blobs = np.zeros((height, width), np.float32)
    for _ in range(6):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        r = rng.uniform(0.15, 0.4) * min(height, width)
        blobs += np.exp(-(((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r)))
    mask = np.clip((blobs - 0.35) * 4, 0, 1)
    texture = (np.sin(x / 3.1) * np.cos(y / 4.7) * 20 + rng.normal(0, 12, (height, width))).astype(np.float32)
    stain = np.stack([200 + texture * 0.6, 90 + texture, 160 + texture * 0.8], -1)
    white = np.full((height, width, 3), 245, np.float32) + rng.normal(0, 2, (height, width, 3))
    img = white * (1 - mask[..., None]) + stain * mask[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def aperio_description(width: int, height: int, mpp: float | None = MPP, extra: str = "") -> str:
    desc = f"{APERIO}\r\n{width}x{height} [0,0 {width}x{height}] (256x256) JPEG/RGB Q=90|AppMag = 20"
    if mpp is not None:
        desc += f"|MPP = {mpp:.4f}"
    return desc + "|Filename = tessera-test" + extra


def write_svs(path: Path, img: np.ndarray, *, tile: int = 256, reductions=(4,), mpp: float | None = MPP,
              label=(100, 300), macro=(200, 400), quality: int = 90) -> Path:
    """An Aperio SVS of `img` (level 0) with a pyramid level per factor in `reductions`, a
    thumbnail, and a label and macro of the given (height, width) (None: left out)."""
    import tifffile

    path = Path(path)
    h, w = img.shape[:2]
    jpeg = dict(compression="jpeg", compressionargs={"level": quality}, photometric="rgb", metadata=None)
    with tifffile.TiffWriter(path, bigtiff=False) as t:
        t.write(img, tile=(tile, tile), description=aperio_description(w, h, mpp), **jpeg)
        step = max(1, max(h, w) // 256)
        t.write(img[::step, ::step], photometric="rgb", metadata=None,
                description=f"{APERIO}\r\n{w}x{h} -> {w // step}x{h // step} - |AppMag = 20")
        for f in reductions:
            t.write(np.ascontiguousarray(img[::f, ::f]), tile=(tile, tile), **jpeg,
                    description=f"{APERIO}\r\n{w}x{h} [0,0 {w}x{h}] ({tile}x{tile}) -> {w // f}x{h // f} JPEG/RGB Q={quality}")
        if label is not None:
            t.write(tissue(*label, seed=7), photometric="rgb", metadata=None, subfiletype=1,
                    description=f"{APERIO}\nlabel {label[1]}x{label[0]}")
        if macro is not None:
            t.write(tissue(*macro, seed=8), photometric="rgb", metadata=None, subfiletype=9, compression="jpeg",
                    description=f"{APERIO}\nmacro {macro[1]}x{macro[0]}")
    return path


def write_generic_tiff(path: Path, img: np.ndarray, *, tile: int = 256, reductions=(2,)) -> Path:
    """A tiled JPEG TIFF pyramid OpenSlide reads as `generic-tiff`."""
    import tifffile

    path = Path(path)
    with tifffile.TiffWriter(path) as t:
        t.write(img, tile=(tile, tile), compression="jpeg", photometric="rgb", metadata=None)
        for f in reductions:
            t.write(np.ascontiguousarray(img[::f, ::f]), tile=(tile, tile), compression="jpeg", photometric="rgb",
                    metadata=None, subfiletype=1)
    return path


# ---------------------------------------------------------------------------
# Damaged variants
# ---------------------------------------------------------------------------

def truncated(good: Path, out: Path, fraction: float = 0.5) -> Path:
    data = Path(good).read_bytes()
    Path(out).write_bytes(data[: int(len(data) * fraction)])
    return Path(out)


def _tile_table(good: Path, tag_name: str):
    import tifffile

    with tifffile.TiffFile(good) as t:
        tag = t.pages[0].tags[tag_name]
        fmt = t.byteorder + ("Q" if t.is_bigtiff else "I")
        return tag.valueoffset, tag.count, fmt, list(t.pages[0].dataoffsets), list(t.pages[0].databytecounts)


def tile_offsets_out_of_range(good: Path, out: Path) -> Path:
    """Every level-0 TileOffsets entry rewritten to 0x7fffff00, far past the end of the file:
    the file opens, the tiles cannot be read."""
    off, n, fmt, _, _ = _tile_table(good, "TileOffsets")
    b = bytearray(Path(good).read_bytes())
    for i in range(n):
        struct.pack_into(fmt, b, off + i * struct.calcsize(fmt), 0x7FFFFF00)
    Path(out).write_bytes(b)
    return Path(out)


def undecodable_tiles(good: Path, out: Path) -> Path:
    """Level 0's tile bytes overwritten with bytes that are no JPEG stream (offsets and counts
    intact): the slide opens, its tiles do not decode."""
    _, _, _, offsets, counts = _tile_table(good, "TileOffsets")
    b = bytearray(Path(good).read_bytes())
    for o, c in zip(offsets, counts):
        b[o:o + c] = bytes([0x5A]) * c
    Path(out).write_bytes(b)
    return Path(out)


# ---------------------------------------------------------------------------
# Reference reading (openslide-python + openslide-bin)
# ---------------------------------------------------------------------------

def composite(rgba, background: str = "ffffff") -> np.ndarray:
    """A PIL RGBA image from openslide-python's read_region composited onto the slide's
    background the way openslide-python's get_thumbnail does (Pillow paste with the image as
    its own mask), as (3, h, w) uint8."""
    from PIL import Image

    rgb = Image.new("RGB", rgba.size, "#" + background)
    rgb.paste(rgba, None, rgba)
    return np.ascontiguousarray(np.moveaxis(np.asarray(rgb), -1, 0))


def reference_region(slide, x: int, y: int, w: int, h: int, level: int = 0) -> np.ndarray:
    return composite(slide.read_region((x, y), level, (w, h)), background(slide))


def reference_associated(slide, name: str) -> np.ndarray:
    return composite(slide.associated_images[name].convert("RGBA"), background(slide))


def background(slide) -> str:
    import openslide

    return slide.properties.get(openslide.PROPERTY_NAME_BACKGROUND_COLOR, "ffffff")
