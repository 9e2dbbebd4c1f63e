"""The search corpus (corpus.py) recorded into a real catalogue and served by `tessera serve`,
once on SQLite and once on PostgreSQL: what test_search.py (must-show 2) and
test_search_bad_input.py (must-show 6) ask over HTTP.

The gateway migrates its store when it starts; the corpus's rows are then written with the
`sqlite3` / `psql` command-line tools following the schema (Sources/Catalog/Schema/), exactly as
Tests/CatalogTests/SearchParityTests.swift writes them: ids in corpus order (so id order is uid
order), the typed `meta` rows, the access groups, the harvested document, and the free-text
body (FreeText.body: the tokens of the name and of every string/date value).

Use in a test module with::

    from search_arms import search_arms  # noqa: F401  (a module fixture)
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import uuid

import jwt
import pytest

import corpus as corpus_module
from gateway_server import GatewayServer
from http_exchange import get
from pg_server import pg_server, psql_query, server_parts  # noqa: F401  (pg_server is a session fixture)

SECRET = "an-hs256-secret-for-the-search-tests"
TYPE_NAMES = {0: "string", 1: "number", 2: "date", 3: "bool"}


def make_corpus() -> dict:
    """The corpus as corpus.py's main writes it (same seed, same queries and expectations)."""
    import random
    rng = random.Random(corpus_module.SEED)
    datasets = corpus_module.make_datasets(rng)
    queries = corpus_module.make_queries(rng, datasets)
    return {"configuration": corpus_module.CONFIG, "viewers": corpus_module.VIEWERS,
            "datasets": datasets, "queries": queries}


def literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        raise TypeError("booleans are written per dialect")
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def free_text_body(d: dict) -> str:
    """FreeText.body: distinct tokens of the name then of each string/date value, first-seen order."""
    seen, words = set(), []
    for text in [d["name"]] + [r["str"] for r in d["rows"] if r["vtype"] in (0, 2)]:
        for t in corpus_module.tokens(text):
            if t not in seen:
                seen.add(t)
                words.append(t)
    return " ".join(words)


def document(d: dict) -> dict:
    """The harvested document served by /metadata (what the harvest stores in dataset_doc)."""
    scopes: dict = {}
    for r in d["rows"]:
        value = r["num"] if r["vtype"] == 1 else r["str"]
        scopes.setdefault(r["scope"], []).append({"key": r["key"], "type": TYPE_NAMES[r["vtype"]], "value": value})
    return {"dataset": d["uid"], "scopes": scopes}


def corpus_script(corpus: dict, sqlite: bool) -> str:
    lines = ["BEGIN;"]
    now = time.time()
    for i, d in enumerate(corpus["datasets"]):
        id_ = i + 1
        public = ("1" if d["is_public"] else "0") if sqlite else ("TRUE" if d["is_public"] else "FALSE")
        lines.append(
            "INSERT INTO dataset(id, uid, name, root, location, format, owner_group, is_public, status, obs_time, created, updated) "
            f"VALUES ({id_}, {literal(d['uid'])}, {literal(d['name'])}, 'data', {literal(d['location'])}, {literal(d['format'])}, "
            f"{literal(d['owner_group'])}, {public}, {literal(d['status'])}, {literal(d['obs_time'])}, {now}, {now});")
        for g in d["groups"]:
            lines.append(f"INSERT INTO dataset_group(dataset_id, grp) VALUES ({id_}, {literal(g)});")
        for r in d["rows"]:
            lines.append(
                "INSERT INTO meta(dataset_id, seq, scope, key, idx, vtype, num, str) VALUES "
                f"({id_}, {r['seq']}, {literal(r['scope'])}, {literal(r['key'])}, {r['idx']}, {r['vtype']}, "
                f"{literal(r['num'])}, {literal(r['str'])});")
        lines.append(f"INSERT INTO dataset_doc(dataset_id, json) VALUES ({id_}, {literal(json.dumps(document(d), ensure_ascii=False))});")
        lines.append(f"INSERT INTO dataset_text(dataset_id, body) VALUES ({id_}, {literal(free_text_body(d))});")
    if not sqlite:
        lines.append(f"SELECT setval('dataset_id_seq', {len(corpus['datasets'])});")
    lines.append("UPDATE catalog_state SET value = value + 1 WHERE key = 'access_version';")
    lines.append("COMMIT;")
    lines.append("ANALYZE;")
    return "\n".join(lines)


class Arm:
    """One store behind one gateway: its name, URL, the server, and SQL through the CLI tools."""

    def __init__(self, name: str, url: str, path=None):
        self.name, self.url, self.path = name, url, path
        self.server: GatewayServer | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def run_script(self, script_path):
        if self.is_sqlite:
            subprocess.run(["sqlite3", "-batch", str(self.path), f".read {script_path}"], check=True, timeout=300,
                           capture_output=True, input=".timeout 10000\n", text=True)
        else:
            host, port, user = server_parts(self.url)
            database = urllib.parse.urlsplit(self.url).path.lstrip("/")
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", str(port), "-U", user,
                            "-d", database, "-f", str(script_path)], check=True, timeout=300, capture_output=True)

    def query(self, sql: str) -> str:
        """One statement's rows, `|` between columns, one row a line."""
        if self.is_sqlite:
            done = subprocess.run(["sqlite3", "-batch", str(self.path), sql], capture_output=True, text=True,
                                  timeout=60, check=True)
            return done.stdout.strip()
        return psql_query(self.url, sql)

    def snapshot(self) -> dict:
        """Every table's row count and the schema's table list: unchanged by any request."""
        if self.is_sqlite:
            tables = self.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger') ORDER BY name").split("\n")
        else:
            tables = self.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").split("\n")
        counts = {}
        for t in ["dataset", "dataset_group", "meta", "dataset_doc", "dataset_text", "catalog_state", "ingest_file"]:
            counts[t] = self.query(f"SELECT count(*) FROM {t}")
        counts["access_version"] = self.query("SELECT value FROM catalog_state WHERE key = 'access_version'")
        return {"schema": tables, "counts": counts}


def token(groups) -> str:
    return "Bearer " + jwt.encode({"groups": groups, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")


def viewer_headers(viewer: dict) -> dict:
    if viewer["kind"] == "anonymous":
        return {}
    groups = ["globalaccess"] if viewer["kind"] == "everyone" else viewer["groups"]
    return {"Authorization": token(groups)}


def api(arm: Arm, params, headers=None, path="/api/datasets"):
    """GET path?params on the arm's gateway: (status, headers, parsed JSON or raw bytes)."""
    query = urllib.parse.urlencode(params) if not isinstance(params, str) else params
    status, h, body = get(arm.server, path + (("?" + query) if query else ""), headers or {})
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = body
    return status, h, parsed


@pytest.fixture(scope="module")
def search_arms(request, tmp_path_factory, tessera_bin):
    """{"sqlite": Arm, "postgres": Arm} with the corpus recorded and a gateway serving each, and
    the corpus itself; both gateways stopped and the PostgreSQL database dropped afterwards."""
    base = tmp_path_factory.mktemp("search")
    corpus = make_corpus()
    (base / "data").mkdir()
    arms = {"sqlite": Arm("sqlite", f"sqlite:{base / 'catalog.sqlite'}", base / "catalog.sqlite")}
    server_url = request.getfixturevalue("pg_server")
    host, port, user = server_parts(server_url)
    name = "t_" + uuid.uuid4().hex
    admin = f"postgres://{user}@{host}:{port}/postgres"
    psql_query(admin, f"CREATE DATABASE {name}")
    arms["postgres"] = Arm("postgres", f"postgres://{user}@{host}:{port}/{name}")
    try:
        for arm in arms.values():
            config = {
                "roots": [{"name": "data", "location": str(base / "data")}],
                "catalog": {"store": arm.url, "refreshSeconds": 1, "search": corpus["configuration"]},
                "auth": {"jwt": {"hs256Secret": SECRET}},
            }
            config_path = base / f"tessera-{arm.name}.yaml"
            config_path.write_text(json.dumps(config))  # JSON is YAML
            arm.server = GatewayServer(tessera_bin, "--config", config_path)
            script = base / f"corpus-{arm.name}.sql"
            script.write_text(corpus_script(corpus, arm.is_sqlite))
            arm.run_script(script)  # the gateway migrated the store when it started
        yield arms, corpus
    finally:
        for arm in arms.values():
            if arm.server is not None:
                arm.server.stop()
        psql_query(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
