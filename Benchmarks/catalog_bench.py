#!/usr/bin/env python3
"""Catalog search latency (must-show 2's bench): N synthetic datasets x ~60 metadata rows
written straight into SQLite (and PostgreSQL with --postgres URL) following migration 1's
schema (`tessera-bench catalog-schema`), then `tessera-bench catalog URL QUERIES` times
QUERIES searches per element type through the store (no HTTP) and prints p50/p99.

    python3 Benchmarks/catalog_bench.py --datasets 100000 --queries 200 \
        [--postgres postgres://tessera@127.0.0.1:PORT/] [--bench .build/release/tessera-bench]

Goal (issue 19): p99 < 50 ms on SQLite for indexed elements. Standard library only; the
stores are filled through the sqlite3 / psql command-line tools.
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid

OBJECTS = ["NGC", "M31 field", "Orion Nebula", "Crab nebula", "eta Carinae", "Sgr A", "Messier", "Ångström"]
FILTERS = ["U", "B", "V", "R", "I", "Ha", "OIII"]


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + v.replace("'", "''") + "'"


def rows_for(i, rng):
    t = rng.uniform(1546300800, 1703980800)
    ra, dec = rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-1, 1)))
    obj = "%s %d" % (rng.choice(OBJECTS), rng.randint(1, 9999))
    rows = [("OBJECT", 0, None, obj), ("EXPTIME", 1, round(rng.uniform(0, 600), 2), None),
            ("DATE-OBS", 2, float(int(t)), time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t)))),
            ("FILTER", 0, None, rng.choice(FILTERS)), ("RA", 1, ra, None), ("DEC", 1, dec, None)]
    for k in range(54):  # the rest of a typical header: numbers and short strings
        if k % 3 == 0:
            rows.append(("CARD%02d" % k, 0, None, "value %d" % rng.randint(0, 50)))
        else:
            rows.append(("CARD%02d" % k, 1, rng.uniform(-1e3, 1e3), None))
    return [(key, vt, num, s if s is not None else repr(num)) for key, vt, num, s in rows], obj


def generate(n, seed, dialect, out):
    rng = random.Random(seed)
    true, false = ("1", "0") if dialect == "sqlite" else ("TRUE", "FALSE")
    out.write("BEGIN;\n")
    for i in range(1, n + 1):
        rows, obj = rows_for(i, rng)
        name = "obs_%06d_%s" % (i, rng.choice(["sci", "flat", "dark"]))
        public = true if rng.random() < 0.2 else false
        owner = rng.choice(["alpha", "beta", "gamma", None])
        out.write("INSERT INTO dataset(id, uid, name, location, format, owner_group, is_public, status, obs_time, created, updated) "
                  "VALUES (%d, %s, %s, %s, %s, %s, %s, 'ready', %s, 0, 0);\n" % (
                      i, lit(str(uuid.UUID(int=rng.getrandbits(128)))), lit(name), lit("/data/bench/%d.zarr" % i),
                      lit(rng.choice(["fits", "fits", "hdf5", "tiff"])), lit(owner), public, lit(rows[2][2])))
        if rng.random() < 0.5:
            out.write("INSERT INTO dataset_group(dataset_id, grp) VALUES (%d, %s);\n" % (i, lit(rng.choice(["alpha", "beta", "gamma"]))))
        values = ",".join("(%d,%d,'hdu0',%s,0,%d,%s,%s)" % (i, seq, lit(k), vt, lit(num), lit(s)) for seq, (k, vt, num, s) in enumerate(rows))
        out.write("INSERT INTO meta(dataset_id, seq, scope, key, idx, vtype, num, str) VALUES %s;\n" % values)
        words = " ".join(w for w in (name.replace("_", " ") + " " + obj.lower().replace("å", "a").replace("ö", "o")).lower().split())
        out.write("INSERT INTO dataset_text(dataset_id, body) VALUES (%d, %s);\n" % (i, lit(words)))
    if dialect == "postgres":
        out.write("SELECT setval('dataset_id_seq', %d);\n" % n)
    out.write("COMMIT;\n")


def fill(tool_cmd, schema, n, seed, dialect):
    start = time.monotonic()
    p = subprocess.Popen(tool_cmd, stdin=subprocess.PIPE, text=True, stdout=subprocess.DEVNULL)
    p.stdin.write(schema)
    generate(n, seed, dialect, p.stdin)
    p.stdin.close()
    if p.wait() != 0:
        sys.exit("filling the %s catalog failed" % dialect)
    return time.monotonic() - start


def fill_sqlite(db, schema, n, seed):
    """The same rows as `generate`, through Python's sqlite3 module (the same Debian library;
    the CLI parses SQL text several times slower, which matters at 100,000 x 60 rows)."""
    import sqlite3
    start = time.monotonic()
    con = sqlite3.connect(db)
    con.executescript(schema)

    class Sink:
        def write(self, text):
            for stmt in text.split(";\n"):
                if stmt.strip() and stmt.strip() not in ("BEGIN", "COMMIT"):
                    con.execute(stmt)

    con.execute("BEGIN")
    generate(n, seed, "sqlite", Sink())
    con.commit()
    con.close()
    return time.monotonic() - start


def run(bench, url, queries, label):
    out = subprocess.run([bench, "catalog", url, str(queries)], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        r = json.loads(line)
        r["store"] = label
        print(json.dumps(r))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=26)
    ap.add_argument("--postgres", help="postgres://USER@HOST:PORT/ of a throwaway server (a database is created and dropped)")
    ap.add_argument("--bench", default=os.environ.get("TESSERA_BENCH_BIN", ".build/release/tessera-bench"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as d:
        db = os.path.join(d, "catalog.sqlite")
        schema = subprocess.run([a.bench, "catalog-schema", "sqlite"], check=True, capture_output=True, text=True).stdout
        seconds = fill_sqlite(db, schema, a.datasets, a.seed)
        print(json.dumps({"store": "sqlite", "op": "fill", "datasets": a.datasets, "seconds": round(seconds, 1),
                          "bytes": os.path.getsize(db)}))
        run(a.bench, "sqlite:" + db, a.queries, "sqlite")
    if a.postgres:
        base = a.postgres.rstrip("/")
        name = "bench_" + uuid.uuid4().hex[:12]
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", base + "/postgres"]
        subprocess.run(psql + ["-c", "CREATE DATABASE " + name], check=True)
        try:
            schema = subprocess.run([a.bench, "catalog-schema", "postgres"], check=True, capture_output=True, text=True).stdout
            seconds = fill(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", base + "/" + name], schema, a.datasets, a.seed, "postgres")
            print(json.dumps({"store": "postgres", "op": "fill", "datasets": a.datasets, "seconds": round(seconds, 1)}))
            run(a.bench, base + "/" + name, a.queries, "postgres")
        finally:
            subprocess.run(psql + ["-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name], check=False)


if __name__ == "__main__":
    main()
