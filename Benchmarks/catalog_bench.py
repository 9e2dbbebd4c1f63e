#!/usr/bin/env python3
"""`make bench` section `catalog` (issue 19 must-show 2): search latency through the gateway.

N synthetic datasets (default 100,000; --small 5,000) with ~60 harvested rows each (OBJECT,
EXPTIME, DATE-OBS, FILTER, RA/DEC and 54 more cards, like a FITS header) are written into a
SQLite catalogue and a PostgreSQL one (a throwaway server from scripts/pg-test.sh, or
--postgres URL; --no-postgres skips it), each migrated by the `tessera serve` that then
serves it. The rows follow the schema (Sources/Catalog/Schema/); SQLite is filled through
Python's sqlite3 module (the same Debian library), PostgreSQL with psql's \\copy, both in bulk
(secondary indexes made after the load; ANALYZE after). The filled SQLite file and the
PostgreSQL CSV files are cached under Benchmarks/.cache/, keyed by count, seed, generator and
schema, so a rerun skips the fill.

Then QUERIES random searches per element type (text contains / prefix / exact, numeric range,
date range, select, cone, free text `q`) go through `GET /api/datasets` on one keep-alive
connection, as a member of one group (so the visibility clause is in every query): p50 / p99
/ max latency per store and element, every answer required to be a 200.
Goal: p99 < 50 ms on SQLite for the indexed elements (all but `contains` with short needles).

    python3 Benchmarks/catalog_bench.py [--small | --datasets N] [--queries Q] [--tessera PATH]
                                        [--postgres postgres://USER@HOST:PORT/ | --no-postgres]

Results go to Benchmarks/.cache/last-catalog-bench.json.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness.section import Section, run_section  # noqa: E402

# The free-text tokens the conformance corpus computes its expected answers with
# (FreeText.tokens), one copy for the tests and the bench.
sys.path.insert(0, str(HERE.parent / "Tests" / "Conformance" / "catalog"))
from corpus import tokens  # noqa: E402
from harness import servers  # noqa: E402,F401  (puts Tests/Conformance/support on sys.path)
from gateway_server import GatewayServer  # noqa: E402

CACHE = HERE / ".cache"
REPO = HERE.parent
GOAL_P99_MS = 50.0
SECRET = "catalog-bench-secret-of-at-least-32-bytes"
OBJECTS = ["NGC", "M31 field", "Orion Nebula", "Crab nebula", "eta Carinae", "Sgr A", "Messier", "Ångström"]
FILTERS = ["U", "B", "V", "R", "I", "Ha", "OIII"]
GROUPS = ["alpha", "beta", "gamma"]
T0, T1 = 1546300800, 1703980800  # 2019-01-01 … 2023-12-31
SEARCH = {
    "defaultPageSize": 50, "maxPageSize": 500,
    "elements": [
        {"name": "object", "type": "text", "keys": ["OBJECT", "TARGNAME"], "match": "contains"},
        {"name": "objprefix", "type": "text", "keys": ["OBJECT", "TARGNAME"], "match": "prefix"},
        {"name": "objexact", "type": "text", "keys": ["OBJECT", "TARGNAME"], "match": "exact"},
        {"name": "exptime", "type": "range", "keys": ["EXPTIME", "EXPOSURE"]},
        {"name": "observed", "type": "dateRange", "keys": ["DATE-OBS", "DATE", {"key": "MJD-OBS", "as": "mjd"}]},
        {"name": "filter", "type": "select", "keys": ["FILTER", "FILTER1"]},
        {"name": "position", "type": "cone", "ra": ["RA", "RA_OBJ"], "dec": ["DEC", "DEC_OBJ"], "maxRadius": 10},
    ],
}


def dataset_rows(i, rng):
    """(dataset row, group rows, meta rows, free-text body) of dataset i (1-based)."""
    t = float(int(rng.uniform(T0, T1)))
    ra, dec = rng.uniform(0, 360) % 360, math.degrees(math.asin(rng.uniform(-1, 1)))
    obj = "%s %d" % (rng.choice(OBJECTS), rng.randint(1, 9999))
    rows = [("OBJECT", 0, None, obj), ("EXPTIME", 1, round(rng.uniform(0, 600), 2), None),
            ("DATE-OBS", 2, t, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))),
            ("FILTER", 0, None, rng.choice(FILTERS)), ("RA", 1, ra, None), ("DEC", 1, dec, None)]
    for k in range(54):  # the rest of a typical header: numbers and short strings
        if k % 3 == 0:
            rows.append(("CARD%02d" % k, 0, None, "value %d" % rng.randint(0, 50)))
        else:
            rows.append(("CARD%02d" % k, 1, rng.uniform(-1e3, 1e3), None))
    meta = [(i, seq, "hdu0", key, 0, vt, num, s if s is not None else repr(num)) for seq, (key, vt, num, s) in enumerate(rows)]
    name = "obs_%06d_%s" % (i, rng.choice(["sci", "flat", "dark"]))
    dataset = (i, str(uuid.UUID(int=rng.getrandbits(128))), name, "/data/bench/%d.zarr" % i,
               rng.choice(["fits", "fits", "hdf5", "tiff"]), rng.choice(GROUPS + [None]), rng.random() < 0.2, "ready", t)
    groups = [(i, rng.choice(GROUPS))] if rng.random() < 0.5 else []
    seen, words = set(), []
    for text in [name] + [m[7] for m in meta if m[5] in (0, 2)]:
        for w in tokens(text):
            if w not in seen:
                seen.add(w)
                words.append(w)
    return dataset, groups, meta, (i, " ".join(words))


def generate(n, seed):
    rng = random.Random(seed)
    for i in range(1, n + 1):
        yield dataset_rows(i, rng)


DATASET_COLUMNS = "id, uid, name, location, format, owner_group, is_public, status, obs_time, created, updated"


def fill_sqlite(path, n, seed):
    """Bulk-loads a migrated, empty catalogue (no other connection open): one transaction with
    the journal and syncs off (a throwaway file until it is complete), the secondary indexes
    dropped before and made again after from their own `CREATE INDEX` text, so the file ends
    with exactly the schema `tessera` migrated. The triggers stay: the FTS5 tables are filled
    by them, row by row, as the store fills them. Back to WAL (the store's mode) at the end."""
    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    con.execute("PRAGMA foreign_keys=OFF")
    indexes = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                          "AND tbl_name IN ('dataset', 'dataset_group', 'meta')").fetchall()
    con.execute("BEGIN")
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    batch = ([], [], [], [])  # datasets, groups, meta, texts of up to 2,000 datasets

    def flush():
        con.executemany(f"INSERT INTO dataset({DATASET_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,0,0)", batch[0])
        con.executemany("INSERT INTO dataset_group(dataset_id, grp) VALUES (?,?)", batch[1])
        con.executemany("INSERT INTO meta(dataset_id, seq, scope, key, idx, vtype, num, str) VALUES (?,?,?,?,?,?,?,?)", batch[2])
        con.executemany("INSERT INTO dataset_text(dataset_id, body) VALUES (?,?)", batch[3])
        for rows in batch:
            rows.clear()
    for d, g, meta, text in generate(n, seed):
        batch[0].append((*d[:6], int(d[6]), *d[7:]))
        batch[1].extend(g)
        batch[2].extend(meta)
        batch[3].append(text)
        if len(batch[0]) == 2000:
            flush()
    flush()
    for _, sql in indexes:
        con.execute(sql)
    con.execute("UPDATE catalog_state SET value = value + 1 WHERE key = 'access_version'")
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def sqlite_schema(path):
    """The migrations a catalogue file holds, as one string (part of the cache key)."""
    con = sqlite3.connect(path)
    try:
        return ",".join(sorted(r[0] for r in con.execute("SELECT identifier FROM grdb_migrations")))
    finally:
        con.close()


def cache_key(n, seed, schema):
    """Names a cached fill: the count, the seed, the generator's code and the schema."""
    import hashlib
    import inspect
    digest = hashlib.sha256((inspect.getsource(dataset_rows) + "\0" + schema).encode()).hexdigest()[:12]
    return f"{n}-s{seed}-{digest}"


def psql_argv(url):
    parts = urllib.parse.urlsplit(url)
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", parts.hostname, "-p", str(parts.port or 5432),
            "-U", parts.username or "tessera", "-d", parts.path.lstrip("/") or "postgres"]


def postgres_csv(n, seed, folder: Path):
    """The four tables as CSV files in `folder` (made once per count, seed and generator;
    later runs load the cached files)."""
    if (folder / "complete").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    files = {t: open(folder / f"{t}.csv", "w", newline="") for t in ("dataset", "dataset_group", "meta", "dataset_text")}
    writers = {t: csv.writer(f) for t, f in files.items()}
    for d, groups, meta, text in generate(n, seed):
        writers["dataset"].writerow([*d[:5], "" if d[5] is None else d[5], "t" if d[6] else "f", d[7], d[8], 0, 0])
        writers["dataset_group"].writerows(groups)
        writers["meta"].writerows([[*m[:6], "" if m[6] is None else repr(m[6]), m[7]] for m in meta])
        writers["dataset_text"].writerow(text)
    for f in files.values():
        f.close()
    (folder / "complete").write_text("")


def fill_postgres(url, n, seed, work: Path):
    """COPY into a migrated, empty database in one transaction: the secondary indexes (those
    that back no constraint) dropped first and made again after from their own definitions,
    and, as a superuser, the foreign-key triggers skipped (`session_replication_role`; the
    rows are consistent by construction). Generated columns (the tsvector) fill as always."""
    folder = CACHE / f"catalog-pg-{cache_key(n, seed, 'csv')}"
    postgres_csv(n, seed, folder)
    query = ("SELECT pg_get_indexdef(i.indexrelid) || ';' FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
             "WHERE t.relname IN ('dataset', 'dataset_group', 'meta', 'dataset_text') "
             "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)")
    out = subprocess.run(psql_argv(url) + ["-A", "-t", "-c", query], check=True, capture_output=True, text=True)
    creates = [line for line in out.stdout.splitlines() if line.strip()]
    drops = ["DROP INDEX " + c.split(" ON ", 1)[0].split("INDEX ", 1)[1] + ";" for c in creates]
    superuser = subprocess.run(psql_argv(url) + ["-A", "-t", "-c", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"],
                               check=True, capture_output=True, text=True).stdout.strip() == "t"
    script = work / "fill.sql"
    script.write_text("\n".join([
        "BEGIN;",
        "SET LOCAL maintenance_work_mem = '512MB';",
        "SET LOCAL session_replication_role = replica;" if superuser else "",
        *drops,
        f"\\copy dataset({DATASET_COLUMNS}) FROM '{folder / 'dataset.csv'}' WITH (FORMAT csv)",
        f"\\copy dataset_group(dataset_id, grp) FROM '{folder / 'dataset_group.csv'}' WITH (FORMAT csv)",
        f"\\copy meta(dataset_id, seq, scope, key, idx, vtype, num, str) FROM '{folder / 'meta.csv'}' WITH (FORMAT csv)",
        f"\\copy dataset_text(dataset_id, body) FROM '{folder / 'dataset_text.csv'}' WITH (FORMAT csv)",
        *creates,
        f"SELECT setval('dataset_id_seq', {n});",
        "UPDATE catalog_state SET value = value + 1 WHERE key = 'access_version';",
        "COMMIT;", "ANALYZE;", ""]))
    subprocess.run(psql_argv(url) + ["-f", str(script)], check=True, capture_output=True, timeout=7200)


def hs256_token(groups):
    """A JWT without a JWT library (the bench needs only the standard library)."""
    import base64
    import hashlib
    import hmac

    def b64(b):
        return base64.urlsafe_b64encode(b).decode().rstrip("=")
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"groups": groups, "exp": int(time.time()) + 86400}).encode())
    sig = b64(hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"Bearer {head}.{body}.{sig}"


def workloads(rng):
    """element → a function making one random query's parameters."""
    def day(t):
        return time.strftime("%Y-%m-%d", time.gmtime(t))

    def window():
        lo = rng.uniform(0, 590)
        return [("exptime.min", "%.2f" % lo), ("exptime.max", "%.2f" % (lo + 10))]

    def dates():
        t = rng.uniform(T0, T1 - 864000)
        return [("observed.from", day(t)), ("observed.to", day(t + 864000))]

    def cone():
        return [("position.ra", "%.4f" % rng.uniform(0, 359.99)),
                ("position.dec", "%.4f" % math.degrees(math.asin(rng.uniform(-0.99, 0.99)))), ("position.radius", "1")]
    return {
        "text contains": lambda: [("object", rng.choice(["nebula", "carinae", "field 12", "ngc 4", "orion", "sgr a 7"]))],
        "text prefix": lambda: [("objprefix", rng.choice(OBJECTS[:7]).lower()[:5] + " " + str(rng.randint(1, 99)))],
        "text exact": lambda: [("objexact", "%s %d" % (rng.choice(OBJECTS), rng.randint(1, 9999)))],
        "range": window,
        "dateRange": dates,
        "select": lambda: [("filter", v) for v in rng.sample(FILTERS, rng.randint(1, 2))],
        "cone": cone,
        "free text": lambda: [("q", "%s %d" % (rng.choice(["ngc", "orion", "crab", "messier", "angstrom", "obs"]), rng.randint(1, 99)))],
    }


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


class CatalogBench(Section):
    def __init__(self, args):
        super().__init__(args)
        self.steps_total = 2 * (2 + len(workloads(random.Random(0))))

    def conditions(self):
        return f"{self.args.datasets} datasets, {self.args.queries} queries per element, {os.cpu_count()} CPUs, tessera {self.git or '?'}"

    def host_readings(self):
        return {"loadavg": list(os.getloadavg())}

    def serve(self, work, store_url):
        config = {"roots": [{"name": "data", "location": str(work / "data")}],
                  "catalog": {"store": store_url, "search": SEARCH}, "auth": {"jwt": {"hs256Secret": SECRET}}}
        path = work / f"tessera-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(json.dumps(config))
        return GatewayServer(self.args.tessera, "--config", path, startup_timeout=120)

    def time_queries(self, store, server):
        host, port = server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"Authorization": hs256_token(["alpha"])}
        rng = random.Random(self.args.seed + 1)
        for element, make in workloads(rng).items():
            latencies, results = [], []
            for _ in range(self.args.queries):
                path = "/api/datasets?" + urllib.parse.urlencode(make() + [("limit", "50")])
                t = time.perf_counter()
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                body = r.read()
                latencies.append((time.perf_counter() - t) * 1000)
                if r.status != 200:
                    self.fail(f"{store} {element}: {path} -> {r.status} {body[:200]!r}")
                    break
                results.append(len(json.loads(body)["datasets"]))
            row = {"p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99), "max_ms": max(latencies),
                   "queries": len(latencies), "mean_results": sum(results) / max(1, len(results))}
            self.rows.setdefault(store, {})[element] = row
            self.progress(f"{store}: {element}", f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, "
                                                 f"{row['mean_results']:.1f} results per page")
        conn.close()

    def arm(self, store, work, fill, url):
        self.serve(work, url).stop()  # migrates the empty store
        t = time.monotonic()
        how = fill()
        self.fill_seconds[store] = time.monotonic() - t
        self.progress(f"{store}: fill", f"{self.args.datasets} datasets in {self.fill_seconds[store]:.1f} s ({how})")
        server = self.serve(work, url)
        try:
            self.time_queries(store, server)
        finally:
            server.stop()

    def sqlite_fill(self, db):
        """The cached catalogue of this count, seed, generator and schema, else a fill (then
        cached: Benchmarks/.cache/catalog-sqlite-KEY.sqlite, older keys of the count removed)."""
        a = self.args
        key = cache_key(a.datasets, a.seed, sqlite_schema(db))
        cached = CACHE / f"catalog-sqlite-{key}.sqlite"
        if cached.exists():
            for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                stale.unlink(missing_ok=True)
            shutil.copyfile(cached, db)
            return f"copied from {cached.name}"
        fill_sqlite(db, a.datasets, a.seed)
        for old in CACHE.glob(f"catalog-sqlite-{a.datasets}-s{a.seed}-*.sqlite"):
            old.unlink(missing_ok=True)
        partial = cached.with_suffix(".partial")
        shutil.copyfile(db, partial)
        partial.rename(cached)
        return f"filled, cached as {cached.name}"

    def measure(self):
        a = self.args
        self.fill_seconds = {}
        CACHE.mkdir(exist_ok=True)
        with self.workdir("catalog-", CACHE) as work:
            (work / "data").mkdir()
            db = work / "catalog.sqlite"
            self.progress("sqlite: serve", str(db.name))
            self.arm("sqlite", work, lambda: self.sqlite_fill(db), f"sqlite:{db}")
            if a.no_postgres:
                self.note("PostgreSQL skipped (--no-postgres)")
                return
            pg_dir, url = None, a.postgres
            if url is None:
                if shutil.which("psql") is None:
                    self.note("PostgreSQL skipped: psql is not installed (scripts/setup.sh)")
                    return
                pg_dir = Path(tempfile.mkdtemp(prefix="catalog-bench-pg-"))
                os.chmod(pg_dir, 0o755)
                started = subprocess.run([str(REPO / "scripts" / "pg-test.sh"), "start", str(pg_dir / "pg")],
                                         capture_output=True, text=True, timeout=300)
                if started.returncode != 0:
                    self.fail(f"scripts/pg-test.sh start: {started.stderr.strip()}")
                    return
                url = started.stdout.strip()
            base = url.rstrip("/")
            name = "bench_" + uuid.uuid4().hex[:12]
            try:
                subprocess.run(psql_argv(base + "/postgres") + ["-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
                self.progress("postgres: serve", name)
                self.arm("postgres", work, lambda: fill_postgres(f"{base}/{name}", a.datasets, a.seed, work) or "bulk COPY",
                         f"{base}/{name}")
            finally:
                subprocess.run(psql_argv(base + "/postgres") + ["-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                               capture_output=True)
                if pg_dir is not None:
                    subprocess.run([str(REPO / "scripts" / "pg-test.sh"), "stop", str(pg_dir / "pg")], capture_output=True, timeout=300)
                    shutil.rmtree(pg_dir, ignore_errors=True)

    def table_lines(self):
        lines = [f"catalog search through GET /api/datasets ({self.conditions()}); goal: p99 < {GOAL_P99_MS:.0f} ms on SQLite",
                 f"{'store':9} {'element':14} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'results':>8}"]
        for store, elements in self.rows.items():
            for element, r in elements.items():
                lines.append(f"{store:9} {element:14} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['max_ms']:>8.1f} {r['mean_results']:>8.1f}")
        for store, seconds in self.fill_seconds.items():
            lines.append(f"{store}: filled in {seconds:.1f} s")
        slow = [e for e, r in self.rows.get("sqlite", {}).items() if r["p99_ms"] >= GOAL_P99_MS]
        if self.rows.get("sqlite"):
            lines.append("goal met on SQLite" if not slow else f"goal missed on SQLite for: {', '.join(slow)}")
        return lines

    def document(self):
        return {"catalog": self.rows, "datasets": self.args.datasets, "queries": self.args.queries,
                "fill_seconds": self.fill_seconds, "goal_p99_ms": GOAL_P99_MS}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="5,000 datasets and 50 queries per element")
    ap.add_argument("--datasets", type=int, default=None, help="datasets per store (default 100,000)")
    ap.add_argument("--queries", type=int, default=None, help="queries per element type (default 300)")
    ap.add_argument("--seed", type=int, default=26)
    ap.add_argument("--tessera", type=Path, default=REPO / ".build" / "release" / "tessera")
    ap.add_argument("--postgres", help="postgres://USER@HOST:PORT/ of a server to use (a database is made and dropped)")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    args.datasets = args.datasets or (5_000 if args.small else 100_000)
    args.queries = args.queries or (50 if args.small else 300)
    args.tessera = args.tessera.absolute()
    return run_section(CatalogBench(args), CACHE / "last-catalog-bench.json")


if __name__ == "__main__":
    sys.exit(main())
