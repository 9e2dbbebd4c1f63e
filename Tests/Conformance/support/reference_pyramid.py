"""Numpy reference for what `tessera convert` writes (Docs/convert.md, "Pyramid",
"Coordinate transformations", "Chunks and shards", "Attributes" -> omero window).

Everything here works on arrays in NGFF axis order with an axis string such as
"tczyx", "czyx", "zyx" or "yx". It is deliberately written from the contract text
only, independently of the Swift implementation:

  * level n+1 = level n halved on y and x, and on z when the z rule says so;
    new size = ceil(size / 2); the block of output index i is [2i, 2i+2) on every
    halved axis, and at an odd edge the last block is partial (only existing
    pixels count);
  * every level is computed from the previous level;
  * mean  - integers: floor(sum / count + 1/2) computed exactly (round half up,
            also for negative sums, i.e. towards +inf at .5);
            floats: the float64 mean cast to the data type (NaN if any is NaN);
    nearest - the block's first pixel (a[::2, ::2]);
    max     - the largest value;
    mode    - the most frequent value, ties to the smallest value;
  * levels continue until y and x both fit in one chunk.

Float means: the contract fixes "the float64 mean" but not a summation order. The
test data (convert_inputs.pixels) are chosen so that every block sum is exact in
float64 (values k/256 with |k| < 2**20), so every summation order gives the same
result and an exact (bitwise) comparison is fair.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("mean", "nearest", "max", "mode")
SPATIAL = "zyx"


# ---------------------------------------------------------------------------
# One downsampling step
# ---------------------------------------------------------------------------

def _pairs(a: np.ndarray, axis: int, fn):
    """Combine a[0::2] and a[1::2] along `axis` with `fn`; an odd last element is
    passed through alone (partial block)."""
    n = a.shape[axis]
    even = np.take(a, np.arange(0, n, 2), axis=axis)
    odd = np.take(a, np.arange(1, n, 2), axis=axis)
    out = even.copy()
    m = odd.shape[axis]
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(0, m)
    idx = tuple(idx)
    out[idx] = fn(even[idx], odd)
    return out


def _counts(shape, halved_axes) -> np.ndarray:
    """Number of existing source pixels in each output block (broadcastable)."""
    out_shape = [(-(-n // 2)) if i in halved_axes else n for i, n in enumerate(shape)]
    counts = np.ones([1] * len(shape), dtype=np.int64)
    for ax in halved_axes:
        n = shape[ax]
        c = np.full(out_shape[ax], 2, dtype=np.int64)
        if n % 2:
            c[-1] = 1
        sh = [1] * len(shape)
        sh[ax] = out_shape[ax]
        counts = counts * c.reshape(sh)
    return counts


def _is_wide_int(dt: np.dtype) -> bool:
    return dt.kind in "iu" and dt.itemsize >= 8


def _blocks(a: np.ndarray, halved_axes):
    """Stack every block's elements on a new last axis: (vals, valid). Element 0 is
    the block's first pixel; missing pixels of partial blocks have valid=False."""
    pad = [(0, a.shape[i] % 2) if i in halved_axes else (0, 0) for i in range(a.ndim)]
    vals = np.pad(a, pad, mode="edge")
    valid = np.pad(np.ones(a.shape, dtype=bool), pad, mode="constant", constant_values=False)
    new_shape, pair_axes = [], []
    for i, n in enumerate(vals.shape):
        if i in halved_axes:
            new_shape += [n // 2, 2]
            pair_axes.append(len(new_shape) - 1)
        else:
            new_shape.append(n)
    vals = vals.reshape(new_shape)
    valid = valid.reshape(new_shape)
    k = 2 ** len(pair_axes)
    kept = tuple(n for i, n in enumerate(new_shape) if i not in pair_axes)
    dest = list(range(len(kept), len(new_shape)))
    vals = np.moveaxis(vals, pair_axes, dest).reshape(kept + (k,))
    valid = np.moveaxis(valid, pair_axes, dest).reshape(kept + (k,))
    return vals, valid


def mode_of_blocks(vals: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Most frequent valid value per block (last axis); ties -> smallest value."""
    eq = (vals[..., :, None] == vals[..., None, :]) & valid[..., None, :] & valid[..., :, None]
    counts = eq.sum(axis=-1)
    best = counts.max(axis=-1, keepdims=True)
    cand = (counts == best) & valid
    if vals.dtype.kind == "f":
        big = np.array(np.inf, dtype=vals.dtype)
    elif vals.dtype.kind == "b":
        big = np.array(True)
    else:
        big = np.array(np.iinfo(vals.dtype).max, dtype=vals.dtype)
    return np.where(cand, vals, big).min(axis=-1)


def downsample(a: np.ndarray, axes: str, halve: str, method: str) -> np.ndarray:
    """One pyramid step: halve `a` (axis names `axes`) on the axes named in `halve`."""
    assert method in METHODS, method
    halved = [axes.index(n) for n in halve if n in axes]
    if not halved:
        return a.copy()
    dt = a.dtype
    if method == "nearest":
        idx = tuple(slice(None, None, 2) if i in halved else slice(None) for i in range(a.ndim))
        return np.ascontiguousarray(a[idx])
    if method == "max":
        out = a
        for ax in halved:
            out = _pairs(out, ax, np.maximum)
        return out.astype(dt, copy=False)
    if method == "mode":
        vals, valid = _blocks(a, set(halved))
        return mode_of_blocks(vals, valid).astype(dt, copy=False)
    # mean
    counts = _counts(a.shape, set(halved))
    if dt.kind == "f":
        s = a.astype(np.float64)
        for ax in halved:
            s = _pairs(s, ax, np.add)
        return (s / counts).astype(dt)
    if dt.kind == "b":
        raise ValueError("mean of bool is not defined by the contract")
    work = a.astype(object) if _is_wide_int(dt) else a.astype(np.int64)
    for ax in halved:
        work = _pairs(work, ax, np.add)
    # floor(sum/count + 1/2) == floor((2*sum + count) / (2*count)), exact in integers
    res = (2 * work + counts) // (2 * counts)
    return res.astype(dt)


# ---------------------------------------------------------------------------
# The whole pyramid
# ---------------------------------------------------------------------------

def is_eight_bit_rgb(axes: str, shape, dtype) -> bool:
    """uint8 with a c axis of 3 (Docs/convert.md: its own default chunks and codec)."""
    return dtype is not None and np.dtype(dtype) == np.uint8 and "c" in axes and shape[axes.index("c")] == 3


def default_chunks(axes: str, shape, dtype=None) -> dict:
    """Default chunk sizes per axis (before clamping): 1 on t and c (3 on c for 8-bit
    RGB); 64 on z, y, x when the image has z > 1, else 256 on y and x (and 1 on a size-1 z)."""
    has_z = "z" in axes and shape[axes.index("z")] > 1
    rgb = is_eight_bit_rgb(axes, shape, dtype)
    out = {}
    for n in axes:
        if n in "tc":
            out[n] = 3 if (n == "c" and rgb) else 1
        elif n == "z":
            out[n] = 64 if has_z else 1
        else:
            out[n] = 64 if has_z else 256
    return out


def chunks_from_option(axes: str, shape, option, dtype=None) -> dict:
    """Chunk sizes per axis for `--chunks N` (every spatial axis), `--chunks a,b,...`
    (right-aligned per axis) or None (defaults; `dtype` tells 8-bit RGB apart)."""
    if option is None:
        return default_chunks(axes, shape, dtype)
    if isinstance(option, int):
        return {n: (option if n in SPATIAL else 1) for n in axes}
    vals = list(option)
    out = {n: 1 for n in axes}
    for n, v in zip(axes[len(axes) - len(vals):], vals[-len(axes):]):
        out[n] = v
    return out


@dataclass
class Pyramid:
    axes: str
    levels: list                     # numpy arrays, level 0 first
    factors: list                    # per level: {axis: cumulative factor}
    method: str
    spacing: dict = field(default_factory=dict)
    origin: dict = field(default_factory=dict)

    def scale(self, level: int) -> list:
        return [float(self.spacing.get(n, 1.0)) * self.factors[level][n] for n in self.axes]

    def translation(self, level: int) -> list:
        out = []
        for n in self.axes:
            o = float(self.origin.get(n, 0.0))
            if self.method != "nearest":
                o += (self.factors[level][n] - 1) / 2 * float(self.spacing.get(n, 1.0))
            out.append(o)
        return out


def z_is_halved(axes: str, shape, factors: dict, spacing: dict, downsample_z) -> bool:
    """The z rule of Docs/convert.md for one step from a level with `shape` and
    cumulative `factors`. downsample_z: True (--downsample-z), False
    (--no-downsample-z) or None (default rule)."""
    if "z" not in axes:
        return False
    nz = shape[axes.index("z")]
    if nz <= 1 or downsample_z is False:
        # Reading: "and z size > 1" applies to both the flag and the default rule.
        return False
    if downsample_z is True:
        return True
    sz = float(spacing.get("z", 1.0)) * factors["z"]
    syx = max(float(spacing.get(n, 1.0)) * factors[n] for n in "yx")
    return sz < 2 * syx


def build_pyramid(data: np.ndarray, axes: str, method: str = "mean", chunks=None,
                  spacing: dict | None = None, origin: dict | None = None,
                  downsample_z=None) -> Pyramid:
    spacing = dict(spacing or {})
    origin = dict(origin or {})
    ch = chunks_from_option(axes, data.shape, chunks)
    levels = [data]
    factors = [{n: 1 for n in axes}]
    iy, ix = axes.index("y"), axes.index("x")
    while True:
        cur = levels[-1]
        if cur.shape[iy] <= ch["y"] and cur.shape[ix] <= ch["x"]:
            break
        f = dict(factors[-1])
        halve = "yx"
        if z_is_halved(axes, cur.shape, f, spacing, downsample_z):
            halve = "zyx"
        for n in halve:
            f[n] *= 2
        levels.append(downsample(cur, axes, halve, method))
        factors.append(f)
    return Pyramid(axes, levels, factors, method, spacing, origin)


def level_chunks(axes: str, level_shape, chunks: dict) -> tuple:
    """Chunk shape of one level: the configured chunk clamped to the level size."""
    return tuple(min(chunks[n], s) for n, s in zip(axes, level_shape))


def level_shards(axes: str, level_shape, level_chunk, three_d: bool) -> tuple:
    """Default shard shape (0.5): chunk x4 on z,y,x for 3-D images (z > 1), chunk x8
    on y,x for 2-D, 1 chunk on t and c (and on a size-1 z), clamped to the level
    size rounded up to whole chunks."""
    out = []
    for n, s, c in zip(axes, level_shape, level_chunk):
        if n in "tc":
            shard = c
        elif three_d:
            shard = c * 4
        elif n == "z":
            shard = c
        else:
            shard = c * 8
        out.append(min(shard, -(-s // c) * c))
    return tuple(out)


# ---------------------------------------------------------------------------
# omero windows
# ---------------------------------------------------------------------------

def window_source_level(pyr: Pyramid) -> np.ndarray:
    """Level 0 for 8- and 16-bit integers, else the smallest level."""
    dt = pyr.levels[0].dtype
    if dt.kind in "iu" and dt.itemsize <= 2:
        return pyr.levels[0]
    return pyr.levels[-1]


def expected_windows(pyr: Pyramid) -> list:
    """One {min, max, start, end} per c index (one when there is no c axis);
    start/end = 0.1 / 99.9 percentiles with numpy method="inverted_cdf"."""
    a = window_source_level(pyr)
    if "c" in pyr.axes:
        a = np.moveaxis(a, pyr.axes.index("c"), 0)
        per_channel = [a[i] for i in range(a.shape[0])]
    else:
        per_channel = [a]
    out = []
    for v in per_channel:
        v = v.reshape(-1)
        out.append({
            "min": v.min(),
            "max": v.max(),
            "start": np.percentile(v, 0.1, method="inverted_cdf"),
            "end": np.percentile(v, 99.9, method="inverted_cdf"),
        })
    return out
