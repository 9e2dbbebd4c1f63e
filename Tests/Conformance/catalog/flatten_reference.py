"""The catalogue's harvest rule written a second time, in Python, on top of the readers
users trust (astropy, h5py; tifffile and openslide-python when those parts land), so
test_harvest_exact.py can compare Tessera's rows with an independent reading of the same
file. The rule (Docs/catalog.md, "Harvest"):

- input: scopes, each a list of (key, value) in source order;
- a key repeated in a scope and the elements of an array value count up `idx`
  (nested arrays in C order, at most MAX_ARRAY_ELEMENTS elements per value);
- int → number (num None beyond 2**53), float → number, bool → bool (num 0/1,
  text "true"/"false"), None → string "";
- str: a right ascension / declination key (RA*, DEC*, OBJCTRA, OBJCTDEC) with a
  sexagesimal value → number in degrees; the strict date grammar → date (unix seconds,
  no zone = UTC); in a textual scope a JSON number → number; else string.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass

MAX_ARRAY_ELEMENTS = 1024
MAX_TEXT_BYTES = 1024
MAX_KEY_BYTES = 256
EXACT = 2**53

STRING, NUMBER, DATE, BOOL = 0, 1, 2, 3
TYPE_NAMES = {STRING: "string", NUMBER: "number", DATE: "date", BOOL: "bool"}


@dataclass(frozen=True)
class Row:
    scope: str
    key: str
    idx: int
    vtype: int
    num: float | None
    text: str


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$"
)
_FITS_OLD = re.compile(r"^(\d{2})/(\d{2})/(\d{2})$")
_TIFF = re.compile(r"^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$")


def _civil(y, mo, d, h=0, mi=0, s=0.0):
    if not (1 <= mo <= 12) or d < 1 or h > 23 or mi > 59 or s >= 60:
        return None
    if d > calendar.monthrange(y, mo)[1] if y >= 1 else True:
        return None
    days = calendar.timegm((y, mo, d, 0, 0, 0)) if y >= 1970 else _days_before_1970(y, mo, d)
    return days + h * 3600 + mi * 60 + s


def _days_before_1970(y, mo, d):
    import datetime

    return (datetime.date(y, mo, d) - datetime.date(1970, 1, 1)).days * 86400


def date_seconds(text: str):
    m = _TIFF.match(text)
    if m:
        y, mo, d, h, mi, s = map(int, m.groups())
        return _civil(y, mo, d, h, mi, float(s))
    m = _FITS_OLD.match(text)
    if m:
        d, mo, y = map(int, m.groups())
        return _civil(1900 + y, mo, d)
    m = _ISO.match(text)
    if not m:
        return None
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    if m[4] is None:
        if len(text) != 10:
            return None
        return _civil(y, mo, d)
    s = float(m[6] or 0) + (float("0" + m[7]) if m[7] else 0.0)
    base = _civil(y, mo, d, int(m[4]), int(m[5]), s)
    if base is None:
        return None
    zone = m[8]
    if zone and zone != "Z":
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            return None
        base -= (oh * 60 + om) * 60 * (-1 if zone[0] == "-" else 1)
    return base


def angle_kind(key: str):
    k = key.upper()
    if k == "OBJCTRA" or k.startswith("RA"):
        return "ra"
    if k == "OBJCTDEC" or k.startswith("DEC"):
        return "dec"
    return None


_SEXA = re.compile(r"^(\d{1,3})([: ])(\d{1,2})\2(\d{1,2}(?:\.\d+)?)$")


def sexagesimal(text: str, kind: str):
    t = text.strip(" ")
    negative = False
    if kind == "dec" and t[:1] in "+-" and t:
        negative = t[0] == "-"
        t = t[1:]
    m = _SEXA.match(t)
    if not m:
        return None
    whole, minutes, seconds = int(m[1]), int(m[3]), float(m[4])
    if minutes >= 60 or seconds >= 60:
        return None
    value = whole + minutes / 60 + seconds / 3600
    if kind == "ra":
        return value * 15 if value < 24 else None
    if value > 90:
        return None
    return -value if negative else value


_JSON_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$")


def textual_number(text: str):
    if not _JSON_NUMBER.match(text):
        return None
    v = float(text)
    return v if math.isfinite(v) else None


def typed(text: str, key: str, textual: bool):
    kind = angle_kind(key)
    if kind:
        deg = sexagesimal(text, kind)
        if deg is not None:
            return NUMBER, deg
    sec = date_seconds(text)
    if sec is not None:
        return DATE, sec
    if textual:
        n = textual_number(text)
        if n is not None:
            return NUMBER, n
    return STRING, None


def _cut(text: str, limit: int) -> str:
    out, used = [], 0
    for ch in text:
        n = len(ch.encode())
        if used + n > limit:
            break
        out.append(ch)
        used += n
    return "".join(out)


def _double_text(v: float) -> str:
    return repr(v) if math.isfinite(v) else str(v)


def flatten(scopes) -> list[Row]:
    """scopes: iterable of (scope, [(key, value)], textual)."""
    rows: list[Row] = []
    for scope, entries, textual in scopes:
        counts: dict[str, int] = {}
        for raw_key, value in entries:
            key = _cut(raw_key, MAX_KEY_BYTES)
            elements = [0]

            def row(vtype, num, text):
                if elements[0] >= MAX_ARRAY_ELEMENTS:
                    return
                elements[0] += 1
                idx = counts.get(key, 0)
                counts[key] = idx + 1
                rows.append(Row(scope, key, idx, vtype, num, _cut(text, MAX_TEXT_BYTES)))

            def add(v):
                if v is None:
                    row(STRING, None, "")
                elif isinstance(v, bool):
                    row(BOOL, 1.0 if v else 0.0, "true" if v else "false")
                elif isinstance(v, int):
                    row(NUMBER, float(v) if abs(v) <= EXACT else None, str(v))
                elif isinstance(v, float):
                    row(NUMBER, v if math.isfinite(v) else None, _double_text(v))
                elif isinstance(v, str):
                    t, n = typed(v, key, textual)
                    row(t, n, v)
                elif isinstance(v, (list, tuple)):
                    for item in v:
                        if elements[0] >= MAX_ARRAY_ELEMENTS:
                            break
                        add(item)
                else:
                    raise TypeError(f"{scope}/{key}: no rule for {type(v).__name__}")

            add(value)
    return rows


# --- readers -------------------------------------------------------------------------


def fits_scopes(path):
    """Every HDU's cards as astropy reads them; blank cards (keyword '') are excluded
    (documented), Undefined values are None."""
    from astropy.io import fits

    scopes = []
    with fits.open(path) as hdul:
        for i, hdu in enumerate(hdul):
            entries = []
            for card in hdu.header.cards:
                if card.keyword == "":
                    continue
                v = card.value
                if isinstance(v, fits.card.Undefined):
                    v = None
                elif isinstance(v, complex):
                    raise TypeError("complex card values are not part of the reference rule")
                entries.append((card.keyword, v))
            scopes.append((f"hdu{i}", entries, False))
    return scopes


def _h5_value(v):
    import numpy as np

    if isinstance(v, bytes):
        return v.decode("utf-8", "replace").strip(" ")
    if isinstance(v, str):
        return v.strip(" ")
    if isinstance(v, np.ndarray):
        if v.dtype.names is not None:
            return "<a compound type>"
        return [_h5_value(x) for x in v.ravel().tolist()] if v.dtype.kind != "O" else [_h5_value(x) for x in v.ravel()]
    if isinstance(v, np.void):
        return "<a compound type>"
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else str(f)
    if isinstance(v, int):
        return v
    raise TypeError(f"no rule for {type(v).__name__}")


def hdf5_scopes(path):
    """Every object's attributes as h5py reads them, one scope per object path, attributes
    in name order; objects without attributes have no scope."""
    import h5py

    scopes = []
    with h5py.File(path, "r") as f:
        names = ["/"]
        f.visit(lambda name: names.append("/" + name))
        for name in names:
            obj = f[name]
            if not obj.attrs:
                continue
            entries = []
            for key in sorted(obj.attrs.keys()):
                raw = obj.attrs[key]
                v = _h5_value(raw)
                entries.append((key, v))
            scopes.append((name, entries, False))
    return scopes


def _tiff_value(tag):
    from tifffile import DATATYPE

    dt = int(tag.dtype)
    if dt != int(DATATYPE.ASCII) and tag.count > 64:
        return f"<{tag.count} values>"
    v = tag.value
    if dt == int(DATATYPE.ASCII):
        return v if isinstance(v, str) else bytes(v).split(b"\0")[0].decode("utf-8", "replace")
    if dt in (int(DATATYPE.RATIONAL), int(DATATYPE.SRATIONAL)):
        flat = list(v) if isinstance(v, (tuple, list)) else [v]
        pairs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
        out = [n / d if d else f"{n}/{d}" for n, d in pairs]
        return out[0] if len(out) == 1 else out
    if isinstance(v, (bytes, bytearray)):
        out = list(v)
        return out[0] if len(out) == 1 else out
    if isinstance(v, (tuple, list)):
        out = [int(x) if not isinstance(x, float) else x for x in v]
        return out[0] if len(out) == 1 else out
    if isinstance(v, float):
        return v
    return int(v)


def tiff_scopes(path):
    """The first directory's tags as tifffile reads them (scope `ifd0`)."""
    import tifffile

    with tifffile.TiffFile(path) as tf:
        page = tf.pages[0]
        entries = [(tag.name, _tiff_value(tag)) for tag in page.tags.values()]
    return [("ifd0", entries, False)]


def slide_scopes(path):
    """OpenSlide's properties (scope `openslide`, all text)."""
    import openslide

    with openslide.OpenSlide(str(path)) as s:
        props = dict(s.properties)
    return [("openslide", [(k, props[k]) for k in sorted(props)], True)]


def ome_scopes(xml: str):
    """The OME-XML essentials (text scopes): `ome/Image[i]` (AcquisitionDate, Pixels.<attr>
    but ID in name order, Channel.Name/EmissionWavelength/ExcitationWavelength per channel,
    Plane.DeltaT/ExposureTime of the first plane), `ome/Instrument[j]` (Objective.
    NominalMagnification/LensNA/Immersion), `ome/MapAnnotation[k]` (each M: K → text), in
    document order."""
    import xml.etree.ElementTree as ET

    def local(tag):
        return tag.rsplit("}", 1)[-1]

    scopes = []
    counts = {}

    def scope(kind):
        n = counts.get(kind, 0)
        counts[kind] = n + 1
        entries = []
        scopes.append((f"ome/{kind}[{n}]", entries, True))
        return entries

    root = ET.fromstring(xml.encode())
    for el in root.iter():
        name = local(el.tag)
        if name == "Image":
            entries = scope("Image")
            plane_seen = False
            for sub in el.iter():
                sn = local(sub.tag)
                if sn == "AcquisitionDate":
                    entries.append(("AcquisitionDate", (sub.text or "").strip()))
                elif sn == "Pixels":
                    entries += [(f"Pixels.{k}", sub.attrib[k]) for k in sorted(sub.attrib) if k != "ID"]
                elif sn == "Channel":
                    entries += [(f"Channel.{k}", sub.attrib[k]) for k in ("Name", "EmissionWavelength", "ExcitationWavelength")
                                if k in sub.attrib]
                elif sn == "Plane" and not plane_seen:
                    plane_seen = True
                    entries += [(f"Plane.{k}", sub.attrib[k]) for k in ("DeltaT", "ExposureTime") if k in sub.attrib]
        elif name == "Instrument":
            entries = scope("Instrument")
            for sub in el.iter():
                if local(sub.tag) == "Objective":
                    entries += [(f"Objective.{k}", sub.attrib[k]) for k in ("NominalMagnification", "LensNA", "Immersion")
                                if k in sub.attrib]
        elif name == "MapAnnotation":
            entries = scope("MapAnnotation")
            for sub in el.iter():
                if local(sub.tag) == "M" and "K" in sub.attrib:
                    entries.append((sub.attrib["K"], sub.text or ""))
    return scopes
