"""Source images for the `tessera convert` conformance tests, written with the
formats' own Python libraries (tifffile + imagecodecs, h5py, astropy).

Every writer returns a `Source`: the command-line argument to pass to
`tessera convert`, the input format, whether the output uses the bioformats2raw
layout, and one `Expected` image per NGFF image the converter must produce:
the exact level-0 pixels in NGFF axis order (t, c, z, y, x, keeping only the axes
the source has) plus the axis/channel metadata the contract derives from the
source. `Expected.data` is what the format library itself reads back from the
file (re-read after writing, then reordered to NGFF order), so "level 0 equals the
source pixels" compares against the third-party reader, not against our intent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SOFTWARE = "tessera-conformance"
DTYPES = ("uint8", "uint16", "uint32", "int8", "int16", "int32", "float32", "float64")
ODD_YX = (37, 53)  # odd on both axes: every level has a partial edge block


@dataclass
class Expected:
    data: np.ndarray                 # level 0, NGFF axis order
    axes: str                        # e.g. "tczyx", "czyx", "zyx", "yx"
    spacing: dict = field(default_factory=dict)   # axis -> level-0 spacing (1 when absent)
    units: dict = field(default_factory=dict)     # axis -> NGFF unit (absent = no unit)
    channel_names: list | None = None
    colors: list | None = None       # RRGGBB per channel, when the source has them
    name: str | None = None          # image name, when the contract fixes it
    path: str = ""                   # image group below OUTPUT ("" or "0", "1", ...)
    origin: dict = field(default_factory=dict)    # axis -> level-0 translation (0 when absent)


@dataclass
class Source:
    arg: str                         # INPUT as passed to tessera convert
    file: Path                       # the file on disk
    format: str                      # tiff | ome-tiff | hdf5 | fits
    images: list                     # [Expected]
    bioformats2raw: bool = False
    ome_xml: str | None = None       # OME-XML of an OME-TIFF (OME/METADATA.ome.xml)
    dataset: str | None = None       # HDF5 dataset path


# ---------------------------------------------------------------------------
# Pixels
# ---------------------------------------------------------------------------

def pixels(dtype, shape, seed: int = 0, kind: str = "noise") -> np.ndarray:
    """Deterministic test pixels.

    kind="noise": integers uniform over the dtype's whole range (so mean sums
    overflow the type and negative .5 cases occur); floats k/256 with
    |k| < 2**20 (exact in float32, and every block sum of <= 8 values is exact in
    float64, see reference_pyramid).
    kind="smooth": a gradient plus small noise (realistic, compressible).
    kind="labels": a handful of distinct values (so `mode` has majorities and ties).
    """
    dt = np.dtype(dtype)
    rng = np.random.default_rng(seed * 7919 + sum(map(ord, dt.name)) + len(shape))
    if kind == "labels":
        if dt.kind == "f":
            choices = np.array([-1.5, 0.25, 3.0, 1024.0], dtype=dt)
        elif dt.kind == "i":
            choices = np.array([np.iinfo(dt).min, -1, 0, 5, np.iinfo(dt).max], dtype=dt)
        else:
            choices = np.array([0, 1, 7, np.iinfo(dt).max], dtype=dt)
        return choices[rng.integers(0, len(choices), size=shape)]
    if kind == "smooth":
        grids = np.indices(shape, dtype=np.float64)
        base = sum((i + 1) * g for i, g in enumerate(grids))
        base = base / max(base.max(), 1)
        if dt.kind == "f":
            k = np.round(base * 4096 + rng.integers(-64, 64, size=shape))
            return (k / 256.0).astype(dt)
        info = np.iinfo(dt)
        span = min(int(info.max) - int(info.min), 60000)
        v = int(info.min) + np.round(base * (span * 0.9)) + rng.integers(0, span // 20 + 1, size=shape)
        return np.clip(v, info.min, info.max).astype(dt)
    if dt.kind == "f":
        k = rng.integers(-(2**20), 2**20, size=shape)
        return (k / 256.0).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)


# ---------------------------------------------------------------------------
# TIFF (tifffile)
# ---------------------------------------------------------------------------

def read_tiff(path: Path, series: int = 0) -> np.ndarray:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        return tif.series[series].asarray()


def write_tiff(path: Path, data: np.ndarray, axes: str, **kw) -> Source:
    """A plain TIFF (no OME-XML, no tifffile shape JSON). `axes` names the numpy
    axes of `data` as stored: "yx", "zyx" (pages), "yxc" (contig RGB) or "cyx"
    (planar-separate RGB). kw go to tifffile.imwrite (tile, rowsperstrip,
    compression, predictor, bigtiff, planarconfig, photometric)."""
    import tifffile

    path = Path(path)
    kw.setdefault("photometric", "rgb" if "c" in axes else "minisblack")
    tifffile.imwrite(path, data, metadata=None, software=SOFTWARE, **kw)
    back = read_tiff(path)
    if axes == "yxc":
        back = np.moveaxis(back, -1, 0)
    ngff = "".join(n for n in "tczyx" if n in axes)
    return Source(str(path), path, "tiff", [Expected(back, ngff)])


def write_tiff_pages(path: Path, pages: np.ndarray, rgb: bool = False, **kw) -> Source:
    """Multi-page TIFF: one page per pages[i], written page by page (no shape JSON).
    rgb=True: pages are (y, x, 3) RGB pages -> NGFF c, z, y, x."""
    import tifffile

    path = Path(path)
    with tifffile.TiffWriter(path, bigtiff=kw.pop("bigtiff", False)) as tw:
        for p in pages:
            tw.write(p, metadata=None, software=SOFTWARE, photometric="rgb" if rgb else "minisblack", **kw)
    with tifffile.TiffFile(path) as tif:
        back = np.stack([p.asarray() for p in tif.pages])
    if rgb:
        return Source(str(path), path, "tiff", [Expected(np.ascontiguousarray(np.moveaxis(back, -1, 0)), "czyx")])
    return Source(str(path), path, "tiff", [Expected(back, "zyx")])


OME_UNITS = {"µm": "micrometer", "nm": "nanometer", "mm": "millimeter", "s": "second", "ms": "millisecond"}


def write_ome_tiff(path: Path, series: list, **kw) -> Source:
    """OME-TIFF with one or more series. Each entry of `series` is a dict with
    "data" (numpy, axes as named by "axes", e.g. "TCZYX") and optional "name",
    "physical" {axis: (size, unit or None)} (axis "t" = TimeIncrement),
    "channel_names", "colors" (RRGGBB).
    Written with tifffile's ome=True writer, series after series."""
    import tifffile

    path = Path(path)
    with tifffile.TiffWriter(path, ome=True, bigtiff=kw.pop("bigtiff", False)) as tw:
        for s in series:
            md = {"axes": s["axes"]}
            if s.get("name"):
                md["Name"] = s["name"]
            for ax, (size, unit) in s.get("physical", {}).items():
                if ax == "t":
                    md["TimeIncrement"] = size
                    if unit:
                        md["TimeIncrementUnit"] = unit
                    continue
                md[f"PhysicalSize{ax.upper()}"] = size
                if unit:  # None: no unit attribute, the OME default (µm) applies
                    md[f"PhysicalSize{ax.upper()}Unit"] = unit
            ch = {}
            if s.get("channel_names"):
                ch["Name"] = list(s["channel_names"])
            if s.get("colors"):
                # OME Color: signed 32-bit RGBA
                ch["Color"] = [int(np.array((int(c, 16) << 8) | 0xFF, dtype=np.uint32).view(np.int32))
                               for c in s["colors"]]
            if ch:
                md["Channel"] = ch
            tw.write(s["data"], metadata=md, software=SOFTWARE, photometric="minisblack", **kw)
    images = []
    with tifffile.TiffFile(path) as tif:
        ome_xml = tif.ome_metadata
        assert len(tif.series) == len(series), (len(tif.series), len(series))
        for i, (s, ser) in enumerate(zip(series, tif.series)):
            back = ser.asarray()
            axes = ser.axes.lower()
            # OME output is always 5-D t,c,z,y,x with size 1 where absent
            full = back
            for n in "tczyx":
                if n not in axes:
                    full = np.expand_dims(full, 0)
                    axes = n + axes
            order = [axes.index(n) for n in "tczyx"]
            full = np.transpose(full, order)
            # Reading of "Units: from OME-XML (PhysicalSize*Unit, default micrometer;
            # TimeIncrementUnit, default second) ... absent otherwise": an axis has a
            # unit when the OME-XML gives its PhysicalSize (TimeIncrement for t); the
            # unit attribute, else the default. No size -> no unit, spacing 1.
            phys = s.get("physical", {})
            spacing = {ax.lower(): float(v[0]) for ax, v in phys.items()}
            units = {ax.lower(): OME_UNITS[v[1]] if v[1] else ("second" if ax == "t" else "micrometer")
                     for ax, v in phys.items()}
            images.append(Expected(
                np.ascontiguousarray(full), "tczyx", spacing=spacing, units=units,
                channel_names=s.get("channel_names"), colors=s.get("colors"),
                name=s.get("name"), path=str(i) if len(series) > 1 else "",
            ))
    # One series: an image at OUTPUT (Docs/convert.md, Layout); several: bioformats2raw.
    return Source(str(path), path, "ome-tiff", images, bioformats2raw=len(series) > 1, ome_xml=ome_xml)


# ---------------------------------------------------------------------------
# HDF5 (h5py)
# ---------------------------------------------------------------------------

# h5py writes a str as a variable-length UTF-8 string, np.bytes_ as a fixed-length one
HDF5_ATTRS = {"description": "tessera conformance volume", "detector": np.bytes_(b"fixed ascii"),
              "exposure_ms": 12.5, "gain": 3}


def write_hdf5(path: Path, data: np.ndarray, dataset: str = "/entry/data", axes: str | None = None,
               chunks=None, compression=None, attrs: dict | None = None, extra: dict | None = None,
               with_path: bool = True) -> Source:
    """One numeric dataset at `dataset` (chunks=None -> contiguous layout), its
    attributes `attrs` (default HDF5_ATTRS), plus `extra` {path: array} datasets
    (e.g. a 1-D one that must not be picked). `axes` = the dataset's axis names as
    stored (default: the contract's default naming), used to compute the NGFF
    reordering of the expected data."""
    import h5py

    path = Path(path)
    with h5py.File(path, "w") as f:
        ds = f.create_dataset(dataset, data=data, chunks=chunks, compression=compression)
        for k, v in (HDF5_ATTRS if attrs is None else attrs).items():
            ds.attrs[k] = v
        for p, v in (extra or {}).items():
            f.create_dataset(p, data=v)
    with h5py.File(path, "r") as f:
        back = f[dataset][...]
        layout = f[dataset].chunks
    assert (layout is None) == (chunks is None), layout
    stored = axes or "tczyx"[-data.ndim:]
    ngff = "".join(n for n in "tczyx" if n in stored)
    back = np.ascontiguousarray(np.transpose(back, [stored.index(n) for n in ngff]))
    arg = f"{path}:{dataset}" if with_path else str(path)
    return Source(arg, path, "hdf5", [Expected(back, ngff)], dataset=dataset)


# ---------------------------------------------------------------------------
# FITS (astropy)
# ---------------------------------------------------------------------------

FITS_OBJECT = "TESSERA-TEST"


def fits_physical(hdu) -> np.ndarray:
    """The physical values astropy reads for an image HDU (BZERO/BSCALE applied)."""
    return np.asarray(hdu.data)


def write_fits(path: Path, hdus: list, primary_data: np.ndarray | None = None) -> Source:
    """A FITS file with an (empty unless primary_data) primary HDU followed by
    `hdus`: each an astropy HDU (ImageHDU, BinTableHDU, CompImageHDU, ...). Every
    image HDU with data becomes an expected image, in file order."""
    from astropy.io import fits

    path = Path(path)
    prim = fits.PrimaryHDU(data=primary_data)
    prim.header["OBJECT"] = FITS_OBJECT
    fits.HDUList([prim, *hdus]).writeto(path, overwrite=True)
    images = []
    with fits.open(path) as hl:
        for hdu in hl:
            if hdu.is_image and hdu.data is not None and hdu.data.ndim >= 2:
                data = fits_physical(hdu)
                ngff = "zyx"[-data.ndim:] if data.ndim <= 3 else None
                assert ngff, "test FITS images are 2-D or 3-D"
                images.append(Expected(np.ascontiguousarray(data.astype(data.dtype.newbyteorder("=")))
                                       , ngff))
    many = len(images) > 1
    for i, im in enumerate(images):
        im.path = str(i) if many else ""
    return Source(str(path), path, "fits", images, bioformats2raw=many)


def fits_bzero_u16(data_u16: np.ndarray, name: str = "U16"):
    """uint16 pixels stored as BITPIX 16 + BZERO 32768 (astropy does that for uint16)."""
    from astropy.io import fits

    hdu = fits.ImageHDU(data=data_u16, name=name)
    return hdu


def fits_scaled_raw(stored: np.ndarray, bscale: float, bzero: float, blank: int | None = None, name="SCALED"):
    """Integer `stored` values written as-is, with BSCALE/BZERO (and BLANK) cards:
    physical = BZERO + BSCALE * stored (NaN where stored == BLANK)."""
    from astropy.io import fits

    hdu = fits.ImageHDU(data=stored, name=name, do_not_scale_image_data=True)
    hdu.header["BSCALE"] = bscale
    hdu.header["BZERO"] = bzero
    if blank is not None:
        hdu.header["BLANK"] = blank
    return hdu
