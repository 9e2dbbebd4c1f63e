"""The search corpus (must-show 2): >= 500 datasets with known headers, and queries whose
expected answers are computed here, independently of Tessera's parser, SQL and stores.

Writes one JSON file (`python3 corpus.py OUT.json`): the search configuration, the datasets
(dataset columns, access, and the typed `meta` rows exactly as the harvest makes them:
vtype 0 string / 1 number / 2 date with num = unix seconds UTC), and the queries with, per
viewer, the expected set of uids. Swift's SearchParityTests loads the datasets into SQLite and
PostgreSQL and checks both stores answer exactly these sets, paging through `next`.

Standard library only (no numpy): math.* is glibc's libm in float64, as both stores use.
"""

import json
import math
import random
import sys
import unicodedata
from datetime import datetime, timezone

SEED = 19
N = 520
GROUPS = ["alpha", "beta", "gamma"]
OBJECTS = ["NGC 1300", "ngc 4242", "M31 field", "Ångström test", "Café nebula", "Orion Nebula",
           "eta Carinae", "Sgr A*", "100%_done", "crab_nebula", "Messier 101", "ÅNGSTRÖM upper"]
FILTERS = ["U", "B", "V", "R", "I", "Ha", "OIII", "v"]

CONFIG = {
    "defaultPageSize": 50, "maxPageSize": 500,
    "elements": [
        {"name": "object", "type": "text", "keys": ["OBJECT", "TARGNAME"], "match": "contains"},
        {"name": "objprefix", "type": "text", "keys": ["OBJECT", "TARGNAME"], "match": "prefix"},
        {"name": "objexact", "type": "text", "keys": ["OBJECT", "TARGNAME"], "match": "exact"},
        {"name": "exptime", "type": "range", "keys": ["EXPTIME", "EXPOSURE"]},
        {"name": "observed", "type": "dateRange", "keys": ["DATE-OBS", "DATE", {"key": "MJD-OBS", "as": "mjd"}]},
        {"name": "filter", "type": "select", "keys": ["FILTER", "FILTER1"]},
        {"name": "position", "type": "cone", "ra": ["RA", "RA_OBJ"], "dec": ["DEC", "DEC_OBJ"], "maxRadius": 30},
        {"name": "format", "type": "select", "column": "format"},
    ],
}
VIEWERS = [
    {"name": "anonymous", "kind": "anonymous"},
    {"name": "alpha", "kind": "member", "groups": ["alpha"]},
    {"name": "beta+gamma", "kind": "member", "groups": ["beta", "gamma"]},
    {"name": "everyone", "kind": "everyone"},
]


def iso(unix):
    return datetime.fromtimestamp(unix, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def row(scope, key, vtype, num, text):
    return {"scope": scope, "key": key, "vtype": vtype, "num": num, "str": text}


def make_datasets(rng):
    datasets = []
    t0 = datetime(2019, 1, 1, tzinfo=timezone.utc).timestamp()
    t1 = datetime(2023, 12, 31, tzinfo=timezone.utc).timestamp()
    for i in range(N):
        rows = []
        scope = "hdu0" if rng.random() < 0.7 else "hdu1"
        obj_key = "OBJECT" if rng.random() < 0.6 else "TARGNAME"
        if rng.random() < 0.92:
            rows.append(row(scope, obj_key, 0, None, rng.choice(OBJECTS) + (" %d" % rng.randint(1, 99) if rng.random() < 0.3 else "")))
        if rng.random() < 0.9:
            rows.append(row(scope, "EXPTIME" if rng.random() < 0.6 else "EXPOSURE", 1, round(rng.uniform(0, 600), 3), None))
        observed = None
        if rng.random() < 0.9:
            unix = float(int(rng.uniform(t0, t1)))
            observed = unix
            kind = rng.choice(["DATE-OBS", "DATE", "MJD-OBS"])
            if kind == "MJD-OBS":
                mjd = unix / 86400 + 40587
                rows.append(row(scope, "MJD-OBS", 1, mjd, repr(mjd)))
            else:
                rows.append(row(scope, kind, 2, unix, iso(unix)))
        if rng.random() < 0.85:
            rows.append(row(scope, "FILTER" if rng.random() < 0.7 else "FILTER1", 0, None, rng.choice(FILTERS)))
        if rng.random() < 0.9:
            # RA/Dec uniform on the sphere, plus crowds near RA 0/360 and the poles.
            u = rng.random()
            if u < 0.1:
                ra = rng.choice([rng.uniform(0, 0.5), rng.uniform(359.5, 360)]) % 360
                dec = rng.uniform(-5, 5)
            elif u < 0.2:
                ra = rng.uniform(0, 360) % 360
                dec = rng.choice([1, -1]) * rng.uniform(89.0, 89.99)
            else:
                ra = rng.uniform(0, 360) % 360
                dec = math.degrees(math.asin(rng.uniform(-1, 1)))
            pair = ("RA", "DEC") if rng.random() < 0.6 else ("RA_OBJ", "DEC_OBJ")
            rows.append(row(scope, pair[0], 1, ra, repr(ra)))
            rows.append(row(scope, pair[1], 1, dec, repr(dec)))
            if rng.random() < 0.05:
                # An unpaired RA in another scope must not pair with this Dec.
                rows.append(row("hdu9", "RA", 1, (ra + 180) % 360, "x"))
        rows.append(row(scope, "COMMENT", 0, None, "seeded corpus dataset %d" % i))
        for r in rows:
            if r["str"] is None:
                r["str"] = repr(r["num"])
        for seq, r in enumerate(rows):
            r["seq"] = seq
            r["idx"] = 0
        owner = rng.choice(GROUPS + [None])
        groups = sorted(set(rng.sample(GROUPS, rng.randint(0, 2))))
        status = "ready" if rng.random() < 0.97 else rng.choice(["converting", "failed"])
        datasets.append({
            "uid": "ds-%04d" % i,
            "name": "obs_%04d_%s" % (i, rng.choice(["sci", "flat", "dark", "bias"])),
            "location": "/data/corpus/ds-%04d.zarr" % i,
            "format": rng.choice(["fits", "fits", "hdf5", "tiff"]),
            "owner_group": owner, "groups": groups, "is_public": rng.random() < 0.25,
            "status": status, "obs_time": observed, "rows": rows,
        })
    return datasets


# ---- independent reference semantics -------------------------------------------------------

def visible(d, viewer):
    if d["status"] != "ready":
        return False
    if d["is_public"] or viewer["kind"] == "everyone":
        return True
    if viewer["kind"] == "anonymous":
        return False
    g = set(viewer["groups"])
    return (d["owner_group"] in g) or bool(g & set(d["groups"]))


def ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def tokens(text):
    """FreeText.tokens: NFKD, diacritics dropped, lower-cased runs of letters and digits."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    out, cur = [], ""
    for c in folded:
        if c.isalnum() and c != "_":
            cur += c
        else:
            if cur:
                out.append(cur.lower()[:64])
            cur = ""
    if cur:
        out.append(cur.lower()[:64])
    return out


def body(d):
    words = set(tokens(d["name"]))
    for r in d["rows"]:
        if r["vtype"] in (0, 2):
            words.update(tokens(r["str"]))
    return words


def haversine(ra1, dec1, ra2, dec2):
    r = math.radians
    a = math.sin(r(dec1 - dec2) / 2) ** 2 + math.cos(r(dec1)) * math.cos(r(dec2)) * math.sin(r(ra1 - ra2) / 2) ** 2
    return 2 * math.asin(min(1.0, math.sqrt(a)))


def parse_date(text):
    if "T" not in text:
        text += "T00:00:00"
    return datetime.strptime(text.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


def matches(d, params):
    """Does dataset d satisfy every parameter (the element semantics of Docs/catalog.md)?"""
    p = {}
    for k, v in params:
        p.setdefault(k, []).append(v)
    rows = d["rows"]
    text_keys = ("OBJECT", "TARGNAME")
    if "object" in p:
        needle = ascii_lower(p["object"][0])
        if not any(r["key"] in text_keys and r["vtype"] == 0 and needle in ascii_lower(r["str"]) for r in rows):
            return False
    if "objprefix" in p:
        needle = ascii_lower(p["objprefix"][0])
        if not any(r["key"] in text_keys and r["vtype"] == 0 and ascii_lower(r["str"]).startswith(needle) for r in rows):
            return False
    if "objexact" in p:
        if not any(r["key"] in text_keys and r["vtype"] == 0 and r["str"] == p["objexact"][0] for r in rows):
            return False
    if "exptime.min" in p or "exptime.max" in p:
        lo = float(p.get("exptime.min", ["-inf"])[0])
        hi = float(p.get("exptime.max", ["inf"])[0])
        if not any(r["key"] in ("EXPTIME", "EXPOSURE") and r["vtype"] == 1 and lo <= r["num"] <= hi for r in rows):
            return False
    if "observed.from" in p or "observed.to" in p:
        lo = parse_date(p["observed.from"][0]) if "observed.from" in p else -math.inf
        hi = parse_date(p["observed.to"][0]) if "observed.to" in p else math.inf
        ok = False
        for r in rows:
            if r["key"] in ("DATE-OBS", "DATE") and r["vtype"] == 2 and lo <= r["num"] <= hi:
                ok = True
            # MJD keys: the bounds are converted to MJD (as the element's `as: mjd` says).
            if r["key"] == "MJD-OBS" and r["vtype"] == 1 and lo / 86400 + 40587 <= r["num"] <= hi / 86400 + 40587:
                ok = True
        if not ok:
            return False
    if "filter" in p:
        if not any(r["key"] in ("FILTER", "FILTER1") and r["str"] in p["filter"] for r in rows):
            return False
    if "format" in p:
        if d["format"] not in p["format"]:
            return False
    if "position.ra" in p:
        ra0, dec0, rad = (float(p["position." + k][0]) for k in ("ra", "dec", "radius"))
        ok = False
        for a in rows:
            for b in rows:
                if a["scope"] == b["scope"] and (a["key"], b["key"]) in (("RA", "DEC"), ("RA_OBJ", "DEC_OBJ")) \
                        and a["vtype"] == 1 and b["vtype"] == 1 and 0 <= a["num"] < 360 \
                        and haversine(a["num"], b["num"], ra0, dec0) <= math.radians(rad):
                    ok = True
        if not ok:
            return False
    if "q" in p:
        words = body(d)
        for t in tokens(p["q"][0]):
            if not any(w.startswith(t) for w in words):
                return False
    return True


def cone_is_clear(datasets, ra0, dec0, rad):
    """No position within 1e-9 rad of the edge: both stores and Python must agree on it."""
    edge = math.radians(rad)
    for d in datasets:
        rows = d["rows"]
        for a in rows:
            for b in rows:
                if a["scope"] == b["scope"] and (a["key"], b["key"]) in (("RA", "DEC"), ("RA_OBJ", "DEC_OBJ")):
                    if abs(haversine(a["num"], b["num"], ra0, dec0) - edge) < 1e-9:
                        return False
    return True


def make_queries(rng, datasets):
    qs = []
    def add(element, params, sort="id"):
        qs.append({"element": element, "params": [list(x) for x in params], "sort": sort})
    for needle in ["ngc", "NGC", "nebula", "Ångström", "ångström", "ÅNG", "%", "_", "a*", "' OR 1=1 --", "zzz", "100%_"]:
        add("text contains", [("object", needle)])
    for needle in ["ngc", "M31", "Å", "eta", "sgr a", "x", "Orion", "crab_", "100%", "mess"]:
        add("text prefix", [("objprefix", needle)])
    for needle in ["NGC 1300", "ngc 1300", "Ångström test", "Café nebula", "Sgr A*", "none", "M31 field", "eta Carinae", "100%_done", "' OR 1=1 --"]:
        add("text exact", [("objexact", needle)])
    for _ in range(8):
        lo = round(rng.uniform(0, 500), 1)
        add("range", [("exptime.min", str(lo)), ("exptime.max", str(round(lo + rng.uniform(1, 120), 1)))])
    add("range", [("exptime.min", "550")])
    add("range", [("exptime.max", "20.5")])
    add("range", [("exptime.min", "700")])
    for _ in range(8):
        y, m = rng.randint(2019, 2023), rng.randint(1, 12)
        add("dateRange", [("observed.from", "%04d-%02d-01" % (y, m)), ("observed.to", "%04d-%02d-15T12:00:00Z" % (y, m))])
    add("dateRange", [("observed.from", "2023-06-01")])
    add("dateRange", [("observed.to", "2019-03-01")])
    add("dateRange", [("observed.from", "2030-01-01")])
    for values in [["V"], ["R", "V"], ["Ha"], ["OIII", "U", "B"], ["v"], ["nope"], ["I"], ["V", "v"], ["B"], ["U", "R", "I"]]:
        add("select", [("filter", v) for v in values])
    for values in [["fits"], ["hdf5", "tiff"]]:
        add("select column", [("format", v) for v in values])
    cones = [(0.1, 0.0, 1.0), (359.9, 1.0, 2.0), (180.0, 89.95, 0.5), (10.0, -89.5, 1.0), (0.0, 90.0, 2.0)]
    while len(cones) < 14:
        cones.append((round(rng.uniform(0, 359.999), 3), round(math.degrees(math.asin(rng.uniform(-1, 1))), 3), round(rng.uniform(2, 25), 2)))
    cones.append((123.0, 45.0, 0.001))
    for ra, dec, rad in cones:
        while not cone_is_clear(datasets, ra, dec, rad):
            rad += 1e-6
        add("cone", [("position.ra", repr(ra)), ("position.dec", repr(dec)), ("position.radius", repr(rad))])
    for q in ["ngc", "nebula orion", "Ångström", "angstrom", "cafe", "obs 0001", "sci", "' OR 1=1 --", "m31", "seeded corpus 42", "zzzz", "100 done"]:
        add("free text", [("q", q)])
    # Combinations and sorts.
    add("combined", [("object", "nebula"), ("exptime.min", "100")], "name")
    add("combined", [("filter", "V"), ("filter", "R"), ("q", "sci")], "observed")
    add("combined", [("format", "fits"), ("observed.from", "2021-01-01")], "observed")
    add("all", [], "name")
    add("all", [], "observed")
    for q in qs:
        q["expected"] = {
            v["name"]: sorted(d["uid"] for d in datasets if visible(d, v) and matches(d, q["params"]))
            for v in VIEWERS
        }
    return qs


def main():
    rng = random.Random(SEED)
    datasets = make_datasets(rng)
    queries = make_queries(rng, datasets)
    out = {"configuration": CONFIG, "viewers": VIEWERS, "datasets": datasets, "queries": queries}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
