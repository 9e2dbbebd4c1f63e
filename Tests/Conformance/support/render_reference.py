"""Numpy reference for `tessera render` (Docs/render.md), written from the contract text
only, independently of the Swift code: the image is read with zarr-python, and the level
choice, read region, output size, area/nearest resampling, percentile windows (numpy's own
np.percentile), window mapping, gray/16-bit/colour-map quantisation and additive omero
composite are computed here with numpy.

`render(path, **params)` returns (kind, array, info): kind is "npy" (values, (c,y,x) or
(y,x)), "gray8", "gray16" (y,x) or "rgb" (y,x,3); info holds the level and the windows.
"""

from __future__ import annotations

import math

import numpy as np
import zarr


class Image:
    def __init__(self, path):
        group = zarr.open_group(str(path), mode="r")
        attrs = group.attrs.asdict()
        ome = attrs.get("ome", attrs)
        if "multiscales" not in ome and "bioformats2raw.layout" in ome:
            group = group["0"]
            attrs = group.attrs.asdict()
            ome = attrs.get("ome", attrs)
        ms = ome["multiscales"][0]
        self.axes = [a["name"] if isinstance(a, dict) else a for a in ms["axes"]]
        self.levels = [group[d["path"]] for d in ms["datasets"]]
        scales = []
        for d in ms["datasets"]:
            scale = next(t["scale"] for t in d["coordinateTransformations"] if t["type"] == "scale")
            scales.append([float(s) for s in scale])
        self.factors = [[s / s0 for s, s0 in zip(sc, scales[0])] for sc in scales]
        self.omero = ome.get("omero")

    def ax(self, name):
        return self.axes.index(name) if name in self.axes else None

    def size0(self, name, default=1):
        i = self.ax(name)
        return self.levels[0].shape[i] if i is not None else default


def span(start, length, f, size):
    lo = min(size - 1, max(0, math.floor(start / f)))
    hi = min(size, max(0, math.ceil((start + length) / f)))
    lo = max(0, min(lo, size - 1))
    hi = max(hi, lo + 1)
    return lo, hi - lo


def output_size(w, h, box):
    if box is None:
        return w, h
    s = min(box[0] / w, box[1] / h, 1.0)
    return max(1, math.floor(w * s + 0.5)), max(1, math.floor(h * s + 0.5))


def spans(img, level, region):
    x, y, w, h = region
    fx = img.factors[level][img.ax("x")]
    fy = img.factors[level][img.ax("y")]
    shape = img.levels[level].shape
    return span(x, w, fx, shape[img.ax("x")]), span(y, h, fy, shape[img.ax("y")])


def choose_level(img, region, box):
    tw, th = output_size(region[2], region[3], box)
    best, best_pixels = 0, None
    for i in range(len(img.levels)):
        (_, rw), (_, rh) = spans(img, i, region)
        if rw >= tw and rh >= th and (best_pixels is None or rw * rh < best_pixels):
            best, best_pixels = i, rw * rh
    return best


def area_weights(n, m):
    """Integer overlap weights (scaled by m), shape (m, n); each row sums to n."""
    W = np.zeros((m, n), dtype=np.int64)
    for i in range(m):
        lo, hi = i * n, (i + 1) * n
        for j in range(lo // m, (hi - 1) // m + 1):
            W[i, j] = min(hi, (j + 1) * m) - max(lo, j * m)
    return W


def resample(plane, m_w, m_h, method):
    h, w = plane.shape
    if (m_w, m_h) == (w, h):
        return plane
    if method == "nearest":
        ys = np.minimum(h - 1, ((2 * np.arange(m_h) + 1) * h) // (2 * m_h))
        xs = np.minimum(w - 1, ((2 * np.arange(m_w) + 1) * w) // (2 * m_w))
        return plane[np.ix_(ys, xs)]
    Wy, Wx = area_weights(h, m_h), area_weights(w, m_w)
    D = h * w
    if plane.dtype.kind in "biu" and plane.dtype.itemsize <= 4:
        S = Wy @ plane.astype(np.int64) @ Wx.T
        return ((2 * S + D) // (2 * D)).astype(plane.dtype)
    mean = (Wy.astype(np.float64) @ plane.astype(np.float64) @ Wx.T.astype(np.float64)) / D
    if plane.dtype.kind == "f":
        return mean.astype(plane.dtype)
    info = np.iinfo(plane.dtype)
    return np.clip(np.floor(mean + 0.5), info.min, info.max).astype(plane.dtype)


def percentiles(plane, lo, hi):
    if plane.dtype.kind == "f":
        return [float(v) for v in np.nanpercentile(plane, [lo, hi])]
    return [float(v) for v in np.percentile(plane, [lo, hi])]


def fraction(x, start, end, inverted=False):
    x = x.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if end == start:
            v = (x >= end).astype(np.float64)
        else:
            v = np.clip((x - start) / (end - start), 0.0, 1.0)
    if inverted:
        v = 1.0 - v
    return np.where(np.isnan(x), 0.0, v)


def quantise(v, top):
    return np.floor(v * top + 0.5)


def omero_color(hexstr):
    if not isinstance(hexstr, str) or len(hexstr) not in (6, 8):
        return (255.0, 255.0, 255.0)
    v = int(hexstr[:6], 16)
    return (float((v >> 16) & 255), float((v >> 8) & 255), float(v & 255))


def colormap_table(name):
    import matplotlib

    rgba = matplotlib.colormaps[name].resampled(256)(np.arange(256))
    return np.floor(rgba[:, :3] * 255 + 0.5).astype(np.uint8)


def render(path, fmt="png", level=None, t=None, z=None, c=None, region=None, size=None,
           window=None, colormap=None, bits=8, resample_method="area"):
    img = Image(path)
    omero = img.omero or {}
    ochannels = omero.get("channels", [])
    rdefs = omero.get("rdefs", {})
    nc = img.size0("c")
    t = t if t is not None else min(max(rdefs.get("defaultT", 0), 0), img.size0("t") - 1)
    z0 = z if z is not None else min(max(rdefs.get("defaultZ", 0), 0), img.size0("z") - 1)
    if c is None:
        active = [i for i in range(nc) if i < len(ochannels) and ochannels[i].get("active", True)]
        c = active or list(range(nc))
    W0, H0 = img.size0("x"), img.size0("y")
    region = region or (0, 0, W0, H0)
    if size is not None and not isinstance(size, tuple):
        size = (size, size)
    if level is None:
        level = choose_level(img, region, size) if size is not None else 0
    (rx, rw), (ry, rh) = spans(img, level, region)
    ow, oh = output_size(rw, rh, size)
    arr = img.levels[level]
    zl = 0
    if img.ax("z") is not None:
        zl = min(math.floor(z0 / img.factors[level][img.ax("z")]), arr.shape[img.ax("z")] - 1)

    planes = []
    for ch in c:
        index = [0] * len(img.axes)
        for name, value in (("t", t), ("c", ch), ("z", zl)):
            if img.ax(name) is not None:
                index[img.ax(name)] = value
        index[img.ax("y")] = slice(ry, ry + rh)
        index[img.ax("x")] = slice(rx, rx + rw)
        planes.append(np.asarray(arr[tuple(index)]))
    info = {"level": level, "read": (rx, ry, rw, rh), "size": (ow, oh)}

    if fmt == "npy":
        out = [resample(p, ow, oh, resample_method) for p in planes]
        return "npy", (out[0] if len(out) == 1 else np.stack(out)), info

    windows = []
    has_omero = all(i < len(ochannels) and "start" in ochannels[i].get("window", {}) for i in c)
    spec = window or ("omero" if has_omero else (0.1, 99.9, "p"))
    for ch, p in zip(c, planes):
        inverted = bool(ochannels[ch].get("inverted", False)) if ch < len(ochannels) else False
        if spec == "omero":
            w = ochannels[ch]["window"]
            windows.append((float(w["start"]), float(w["end"]), inverted))
        elif spec == "none":
            info_t = np.iinfo(p.dtype)
            windows.append((float(info_t.min), float(info_t.max), inverted))
        elif len(spec) == 3 and spec[2] == "p":
            lo, hi = percentiles(p, spec[0], spec[1])
            windows.append((lo, hi, inverted))
        else:
            windows.append((float(spec[0]), float(spec[1]), inverted))
    info["windows"] = [(w[0], w[1]) for w in windows]
    res = [resample(p, ow, oh, resample_method) for p in planes]

    if len(c) == 1:
        v = fraction(res[0], *windows[0])
        if colormap not in (None, "gray"):
            return "rgb", colormap_table(colormap)[quantise(v, 255).astype(np.intp)], info
        if bits == 16:
            return "gray16", quantise(v, 65535).astype(np.uint16), info
        return "gray8", quantise(v, 255).astype(np.uint8), info
    acc = np.zeros((oh, ow, 3), dtype=np.float64)
    for ch, p, w in zip(c, res, windows):
        v = fraction(p, *w)
        color = omero_color(ochannels[ch].get("color") if ch < len(ochannels) else None)
        for k in range(3):
            acc[..., k] = acc[..., k] + v * color[k]
    return "rgb", np.minimum(255, np.floor(acc + 0.5)).astype(np.uint8), info


def psnr(a, b, peak=255.0):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(peak * peak / mse)
