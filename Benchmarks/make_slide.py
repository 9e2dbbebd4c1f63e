#!/usr/bin/env python3
"""Generate (once) and cache the slide benchmark's input: an Aperio-style SVS of synthetic
H&E tissue, written tile by tile by tifffile.

    python Benchmarks/make_slide.py [--size 32768x24576] [--tile 256] [--quality 90] [--force] [--out PATH] [--check]

prints the path of the slide (default Benchmarks/.cache/slide-<W>x<H>-t<T>-q<Q>.svs).
The default, 32768×24576 RGB, is 2.4 GB of pixels; `--size 4096x3072` makes a small one
for trying things out. The file is what OpenSlide's `aperio` driver expects (checked with
Debian's OpenSlide 3.4.1 and openslide-python's 4.x):
  page 0   level 0, tiled T×T JPEG (YCbCr) at quality Q, the Aperio description with
           `AppMag = 20|MPP = 0.4990`;
  page 1   the thumbnail, stripped;
  page 2…  levels at 4× and 16× (and 64× when the slide is big enough), tiled JPEG;
  last two the label (stripped, LZW) and the macro (stripped, JPEG), with descriptions
           `...\\nlabel WxH` / `...\\nmacro WxH` (a plain `\\n`: 3.4.1 splits the lines on
           `\\r` and `\\n` separately, so `\\r\\n` would lose the name).
Every page is written with `metadata=None` (else tifffile adds its own JSON description,
OpenSlide reads that one and sees a generic TIFF).

Content, so that it compresses like a real scan (not noise, not flat): islands of tissue
(a smooth low-frequency field, thresholded with a soft edge) on a near-white glass
background with sensor noise; inside the tissue a Beer–Lambert mix of hematoxylin (nuclei:
dark blue-purple blobs, band-pass noise thresholded) and eosin (pink stroma with fibre-like
texture), plus sensor noise. The textures are periodic atlases (2048² and 1792², so the
pattern repeats only every 14336 px) sampled per tile, which keeps generation cheap and
every tile seamless with its neighbours. Deterministic (seeded).

Memory stays bounded whatever the size: level 0 is generated one tile at a time as tifffile
consumes it; the 4× level is accumulated into a memory-mapped scratch file beside the
output (removed afterwards), the smaller levels from it a band at a time. The slide is
written under a temporary name and renamed into place, so an interrupted run never leaves
a truncated cache file.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
DEFAULT_SIZE = (32768, 24576)  # width, height: 2.4 GB of RGB pixels
MPP = 0.4990
SEED = 17

# Optical densities per unit stain (Ruifrok & Johnston's H&E vectors, rows R, G, B).
HEMATOXYLIN = np.array([0.65, 0.70, 0.29], np.float32)
EOSIN = np.array([0.07, 0.99, 0.11], np.float32)
GLASS_OD = np.array([0.045, 0.05, 0.04], np.float32)  # background: ~242, 241, 243


def parse_size(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size wants WIDTHxHEIGHT, got {text!r}") from None
    if w < 256 or h < 256:
        raise argparse.ArgumentTypeError(f"--size must be at least 256x256, got {text!r}")
    return w, h


def slide_path(size, tile, quality, cache=CACHE):
    return Path(cache) / f"slide-{size[0]}x{size[1]}-t{tile}-q{quality}.svs"


def periodic_noise(rng, side, low, high, channels=1):
    """Band-limited noise of period `side` (random spectrum between `low` and `high`
    cycles per pixel, inverse FFT), scaled to zero mean and unit deviation."""
    fy = np.fft.fftfreq(side)[:, None]
    fx = np.fft.rfftfreq(side)[None, :]
    radius = np.sqrt(fy * fy + fx * fx)
    band = ((radius >= low) & (radius <= high)).astype(np.float32)
    out = []
    for _ in range(channels):
        spectrum = (rng.normal(size=radius.shape) + 1j * rng.normal(size=radius.shape)) * band
        field = np.fft.irfft2(spectrum, s=(side, side)).astype(np.float32)
        field -= field.mean()
        field /= field.std() + 1e-12
        out.append(field)
    return out[0] if channels == 1 else np.stack(out, -1)


class Texture:
    """The periodic atlases every tile samples, and the coarse tissue field."""

    def __init__(self, width, height, seed=SEED):
        rng = np.random.default_rng(seed)
        # Nuclei: blobs ~6–14 px across; two atlases of different periods summed.
        self.nuclei = [periodic_noise(rng, 2048, 1 / 16, 1 / 7), periodic_noise(rng, 1792, 1 / 16, 1 / 7)]
        # Stroma: fibre-like texture at a few scales, and a slow stain-density variation.
        self.fibres = [periodic_noise(rng, 2048, 1 / 40, 1 / 3), periodic_noise(rng, 1792, 1 / 40, 1 / 3)]
        self.density = periodic_noise(rng, 2048, 1 / 1024, 1 / 128)
        # Sensor noise: ~2.5 grey levels per channel.
        self.noise = (rng.normal(0, 2.5, size=(1024, 1024, 3))).astype(np.float32)
        # Tissue islands: a smooth field over the whole slide at 1/64 scale, thresholded.
        self.coarse_step = 64
        cw, ch = width // self.coarse_step + 2, height // self.coarse_step + 2
        side = 1 << max(6, int(np.ceil(np.log2(max(cw, ch)))))
        self.coarse = periodic_noise(rng, side, 1 / 48, 1 / 6)[:ch, :cw]

    @staticmethod
    def sample(atlas, y0, x0, h, w):
        """atlas[y0:y0+h, x0:x0+w] with wrap-around."""
        n = atlas.shape[0]
        ys = (np.arange(y0, y0 + h) % n)[:, None]
        xs = (np.arange(x0, x0 + w) % n)[None, :]
        return atlas[ys, xs]

    def tissue(self, y0, x0, h, w):
        """Tissue fraction 0…1 per pixel (bilinear over the coarse field, soft edge)."""
        s = self.coarse_step
        fy = (np.arange(y0, y0 + h, dtype=np.float32) + 0.5) / s
        fx = (np.arange(x0, x0 + w, dtype=np.float32) + 0.5) / s
        iy, ix = fy.astype(np.int64), fx.astype(np.int64)
        ty, tx = (fy - iy)[:, None], (fx - ix)[None, :]
        c = self.coarse
        f = (c[iy][:, ix] * (1 - ty) * (1 - tx) + c[iy + 1][:, ix] * ty * (1 - tx)
             + c[iy][:, ix + 1] * (1 - ty) * tx + c[iy + 1][:, ix + 1] * ty * tx)
        return np.clip((f - 0.1) * 4.0, 0.0, 1.0)

    def region(self, y0, x0, h, w):
        """The RGB uint8 pixels of level 0 at [y0:y0+h, x0:x0+w]."""
        t = self.tissue(y0, x0, h, w)
        noise = self.sample(self.noise, y0, x0, h, w)
        if not t.any():
            rgb = 255.0 * np.exp(-GLASS_OD) + noise
            return np.clip(rgb, 0, 255).astype(np.uint8)
        nuc = self.sample(self.nuclei[0], y0, x0, h, w) + self.sample(self.nuclei[1], y0, x0, h, w)
        fib = self.sample(self.fibres[0], y0, x0, h, w) + self.sample(self.fibres[1], y0, x0, h, w)
        dens = self.sample(self.density, y0, x0, h, w)
        # Hematoxylin: nuclei where the band-pass field peaks, a faint counterstain elsewhere.
        hema = np.clip(nuc - 1.3, 0, None) * 0.8 + 0.08 + 0.03 * dens
        # Eosin: stroma density varying slowly, with fibres.
        eos = np.clip(0.35 + 0.12 * dens + 0.10 * fib, 0.05, None)
        od = (hema * t)[..., None] * HEMATOXYLIN + (eos * t)[..., None] * EOSIN + GLASS_OD
        rgb = 255.0 * np.exp(-od) + noise
        return np.clip(rgb, 0, 255).astype(np.uint8)


def description(w, h, tile, quality, extra=""):
    return (f"Aperio Image Library v12.0.0\r\n{w}x{h} [0,0 {w}x{h}] ({tile}x{tile}) {extra}JPEG/RGB Q={quality}"
            f"|AppMag = 20|MPP = {MPP:.4f}|Filename = synthetic-he")


def downsample(a, f):
    """Mean over f×f blocks of an (H, W, 3) uint8 array (H, W multiples of f)."""
    h, w = a.shape[0] // f, a.shape[1] // f
    return a[:h * f, :w * f].reshape(h, f, w, f, 3).mean(axis=(1, 3)).round().astype(np.uint8)


def label_image():
    """A 300×100 label: white with a black 'barcode' of bars."""
    img = np.full((100, 300, 3), 250, np.uint8)
    rng = np.random.default_rng(SEED + 1)
    x = 20
    while x < 280:
        bw = int(rng.integers(1, 5))
        img[20:80, x:x + bw] = 10
        x += bw + int(rng.integers(1, 4))
    return img


def generate(path, size, tile, quality, progress=True):
    import tifffile
    width, height = size
    if width % 4 or height % 4:
        raise SystemExit(f"make_slide: width and height must be multiples of 4, got {width}x{height}")
    tex = Texture(width, height)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".partial-{os.getpid()}")
    scratch = path.with_name(path.name + f".level1-{os.getpid()}")
    l1 = np.lib.format.open_memmap(scratch, mode="w+", dtype=np.uint8, shape=(height // 4, width // 4, 3))
    tiles_y, tiles_x = -(-height // tile), -(-width // tile)

    def level0_tiles():
        for ty in range(tiles_y):
            if progress and ty % 8 == 0:
                print(f"make_slide: level 0 tile row {ty + 1}/{tiles_y}", file=sys.stderr, flush=True)
            for tx in range(tiles_x):
                y0, x0 = ty * tile, tx * tile
                h, w = min(tile, height - y0), min(tile, width - x0)
                px = tex.region(y0, x0, h, w)
                h4, w4 = h - h % 4, w - w % 4
                l1[y0 // 4:(y0 + h4) // 4, x0 // 4:(x0 + w4) // 4] = downsample(px[:h4, :w4], 4)
                if (h, w) != (tile, tile):  # edge tile: tifffile wants full tiles
                    full = np.zeros((tile, tile, 3), np.uint8)
                    full[:h, :w] = px
                    px = full
                yield px

    jpeg = {"compression": "jpeg", "compressionargs": {"level": quality}, "photometric": "rgb", "metadata": None}
    try:
        with tifffile.TiffWriter(tmp, bigtiff=True) as t:
            t.write(level0_tiles(), shape=(height, width, 3), dtype=np.uint8, tile=(tile, tile),
                    description=description(width, height, tile, quality), **jpeg)
            l1.flush()
            levels = [(4, l1)]
            factor, prev = 4, l1
            while min(prev.shape[:2]) // 4 >= 512:
                factor *= 4
                nxt = np.empty((prev.shape[0] // 4, prev.shape[1] // 4, 3), np.uint8)
                band = 1024
                for y in range(0, nxt.shape[0], band // 4):
                    nxt[y:y + band // 4] = downsample(np.asarray(prev[y * 4:(y + band // 4) * 4]), 4)
                levels.append((factor, nxt))
                prev = nxt
            # The thumbnail: ~1024 px wide, from the smallest level.
            f_small, small = levels[-1]
            step = max(1, small.shape[1] // 1024)
            thumb = small[::step, ::step]
            t.write(thumb, photometric="rgb", metadata=None, rowsperstrip=16,
                    description=f"Aperio Image Library v12.0.0\r\n{width}x{height} -> {thumb.shape[1]}x{thumb.shape[0]} - |AppMag = 20|MPP = {MPP:.4f}")
            for f, level in levels:
                if progress:
                    print(f"make_slide: level {f}x ({level.shape[1]}x{level.shape[0]})", file=sys.stderr, flush=True)
                t.write(level, tile=(tile, tile), subfiletype=0,
                        description=description(width, height, tile, quality, f"-> {level.shape[1]}x{level.shape[0]} "), **jpeg)
            label = label_image()
            t.write(label, photometric="rgb", metadata=None, subfiletype=1, compression="lzw",
                    description=f"Aperio Image Library v12.0.0\nlabel {label.shape[1]}x{label.shape[0]}")
            macro = np.ascontiguousarray(small[:: max(1, small.shape[0] // 200), :: max(1, small.shape[0] // 200)])
            t.write(macro, photometric="rgb", metadata=None, subfiletype=9, compression="jpeg",
                    description=f"Aperio Image Library v12.0.0\nmacro {macro.shape[1]}x{macro.shape[0]}")
        del l1
        os.replace(tmp, path)
    finally:
        for p in (tmp, scratch):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
    return path


def check(path):
    """What OpenSlide sees in the slide, through Debian's libopenslide (ctypes) and through
    openslide-python (its bundled OpenSlide 4.x): both must say `aperio`, with the mpp and
    the label, macro and thumbnail. Returns the problems (empty when all is well)."""
    import ctypes
    problems, lines = [], []
    try:
        lib = ctypes.CDLL("libopenslide.so.0")
    except OSError as e:
        lib = None
        problems.append(f"Debian's libopenslide.so.0 not loadable: {e}")
    if lib is not None:
        lib.openslide_detect_vendor.restype = ctypes.c_char_p
        lib.openslide_open.restype = ctypes.c_void_p
        lib.openslide_get_error.restype = ctypes.c_char_p
        lib.openslide_get_property_value.restype = ctypes.c_char_p
        lib.openslide_get_version.restype = ctypes.c_char_p
        lib.openslide_get_associated_image_names.restype = ctypes.POINTER(ctypes.c_char_p)
        name = str(path).encode()
        vendor = lib.openslide_detect_vendor(name)
        osr = ctypes.c_void_p(lib.openslide_open(name))
        if not osr.value:
            problems.append("Debian's OpenSlide cannot open it")
        else:
            err = lib.openslide_get_error(osr)
            names, i = [], 0
            assoc = lib.openslide_get_associated_image_names(osr)
            while assoc[i]:
                names.append(assoc[i].decode())
                i += 1
            mpp = lib.openslide_get_property_value(osr, b"openslide.mpp-x")
            lines.append(f"OpenSlide {lib.openslide_get_version().decode()} (Debian): vendor {vendor}, "
                         f"{lib.openslide_get_level_count(osr)} levels, mpp-x {mpp}, associated {names}, error {err}")
            if vendor != b"aperio" or err or not mpp or sorted(names) != ["label", "macro", "thumbnail"]:
                problems.append(f"Debian's OpenSlide: {lines[-1]}")
            lib.openslide_close(osr)
    try:
        import openslide
        s = openslide.OpenSlide(str(path))
        lines.append(f"openslide-python {openslide.__version__} (OpenSlide {openslide.__library_version__}): "
                     f"vendor {s.properties.get('openslide.vendor')}, levels {s.level_dimensions}, "
                     f"associated {sorted(s.associated_images)}")
        if s.properties.get("openslide.vendor") != "aperio":
            problems.append(lines[-1])
        s.close()
    except ImportError:
        problems.append("openslide-python is not installed")
    for line in lines:
        print(line, file=sys.stderr)
    return problems


def ensure(size=DEFAULT_SIZE, tile=256, quality=90, path=None, force=False, progress=True):
    """The cached slide, generated first when missing (or with `force`)."""
    path = Path(path) if path else slide_path(size, tile, quality)
    if force or not path.exists():
        generate(path, size, tile, quality, progress)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=parse_size, default=DEFAULT_SIZE, help="WIDTHxHEIGHT of level 0 (default 32768x24576)")
    ap.add_argument("--tile", type=int, default=256, choices=(240, 256, 512), help="level tile side (default 256)")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality (default 90)")
    ap.add_argument("--out", type=Path, help="where to write it (default under Benchmarks/.cache/)")
    ap.add_argument("--force", action="store_true", help="regenerate even when cached")
    ap.add_argument("--check", action="store_true",
                    help="then open it with Debian's OpenSlide (ctypes) and openslide-python: must be aperio")
    args = ap.parse_args(argv)
    path = ensure(args.size, args.tile, args.quality, args.out, args.force)
    print(path)
    if args.check:
        problems = check(path)
        for p in problems:
            print(f"make_slide: {p}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
