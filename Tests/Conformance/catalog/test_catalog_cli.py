"""`tessera catalog grant|revoke|show|list` on both stores (Docs/catalog.md, "Stores").

Datasets are written straight into the catalogue with the sqlite3 / psql command-line
clients, following the schema (Sources/Catalog/Schema/CatalogMigrations.swift); the command
under test migrates the empty catalogue on first use. What the commands change is read back
with the same clients.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from pg_server import pg_database, pg_server, psql_query  # noqa: F401  (fixtures)

DATASETS = [
    # uid, name, location, status, owner_group, is_public, groups
    ("u-one", "one", "/data/ngff/one.ome.zarr", "ready", "lab", False, ["readers"]),
    ("u-two", "two", "s3://bucket/two.ome.zarr", "converting", None, True, []),
]


class Catalog:
    def __init__(self, url: str, run_sql):
        self.url = url
        self.sql = run_sql

    def add_datasets(self):
        for i, (uid, name, location, status, owner, public, groups) in enumerate(DATASETS, start=1):
            owner_sql = "NULL" if owner is None else f"'{owner}'"
            public_sql = ("TRUE" if public else "FALSE") if self.url.startswith("postgres") else ("1" if public else "0")
            self.sql(
                "INSERT INTO dataset(id, uid, name, location, status, owner_group, is_public, created, updated, format, "
                f"source_bytes) VALUES ({i}, '{uid}', '{name}', '{location}', '{status}', {owner_sql}, {public_sql}, "
                f"1700000000, 1700000001, 'fits', {1000 * i})")
            for group in groups:
                self.sql(f"INSERT INTO dataset_group(dataset_id, grp) VALUES ({i}, '{group}')")
        self.sql("""INSERT INTO dataset_doc(dataset_id, json) VALUES (1, '{"scopes":{"hdu0":[{"key":"OBJECT","value":"M31"}]}}')""")

    def groups(self, uid: str) -> list[str]:
        out = self.sql(f"SELECT grp FROM dataset_group g JOIN dataset d ON d.id = g.dataset_id WHERE d.uid = '{uid}' ORDER BY grp")
        return out.split("\n") if out else []

    def row(self, uid: str) -> str:
        return self.sql(f"SELECT coalesce(owner_group, '-'), CAST(is_public AS INTEGER) FROM dataset WHERE uid = '{uid}'")

    def version(self) -> int:
        return int(self.sql("SELECT value FROM catalog_state WHERE key = 'access_version'"))


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request, tmp_path, run_tessera):
    if request.param == "sqlite":
        path = tmp_path / "catalog.sqlite"
        path.touch()  # an existing (empty) file: the command makes the schema in it
        url = f"sqlite:{path}"

        def run_sql(sql: str) -> str:
            done = subprocess.run(["sqlite3", "-batch", str(path), sql], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()
    else:
        url = request.getfixturevalue("pg_database")

        def run_sql(sql: str) -> str:
            return psql_query(url, sql)

    first = run_tessera("catalog", "list", "--catalog", url)
    assert first.returncode == 0, first.stderr
    assert "no datasets" in first.stderr
    cat = Catalog(url, run_sql)
    cat.add_datasets()
    return cat


def test_list_and_show(catalog, run_tessera):
    listed = run_tessera("catalog", "list", "--catalog", catalog.url, "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"uid": "u-one", "root": None, "location": "/data/ngff/one.ome.zarr", "status": "ready",
         "ownerGroup": "lab", "accessGroups": ["readers"], "public": False},
        {"uid": "u-two", "root": None, "location": "s3://bucket/two.ome.zarr", "status": "converting",
         "ownerGroup": None, "accessGroups": [], "public": True},
    ]
    text = run_tessera("catalog", "list", "--catalog", catalog.url)
    assert text.stdout.splitlines() == [
        "u-one  ready  owner group lab, groups readers, private  /data/ngff/one.ome.zarr",
        "u-two  converting  owner group -, groups -, public  s3://bucket/two.ome.zarr",
    ]
    for name in ("u-one", "/data/ngff/one.ome.zarr"):
        shown = run_tessera("catalog", "show", name, "--json", "--catalog", catalog.url)
        assert shown.returncode == 0, shown.stderr
        doc = json.loads(shown.stdout)
        assert doc["uid"] == "u-one" and doc["name"] == "one" and doc["format"] == "fits"
        assert doc["sourceBytes"] == 1000 and doc["ownerGroup"] == "lab" and doc["accessGroups"] == ["readers"]
        assert doc["metadata"] == {"scopes": {"hdu0": [{"key": "OBJECT", "value": "M31"}]}}
    shown = run_tessera("catalog", "show", "s3://bucket/two.ome.zarr", "--catalog", catalog.url)
    assert shown.returncode == 0 and shown.stdout.startswith("u-two  two\n")
    assert "access: owner group -, groups -, public" in shown.stdout


def test_grant_and_revoke(catalog, run_tessera):
    before = catalog.version()
    granted = run_tessera("catalog", "grant", "u-one", "s3://bucket/two.ome.zarr", "--group", "g1", "--group", "g2",
                          "--catalog", catalog.url)
    assert granted.returncode == 0, granted.stderr
    assert catalog.groups("u-one") == ["g1", "g2", "readers"]
    assert catalog.groups("u-two") == ["g1", "g2"]
    assert catalog.version() == before + 2  # one change per dataset
    assert granted.stdout.splitlines()[0] == "u-one  /data/ngff/one.ome.zarr  owner group lab, groups g1,g2,readers, private"

    owner = run_tessera("catalog", "grant", "/data/ngff/one.ome.zarr", "--owner-group", "facility", "--public",
                        "--catalog", catalog.url)
    assert owner.returncode == 0, owner.stderr
    assert catalog.row("u-one") == "facility|1"
    private = run_tessera("catalog", "grant", "u-two", "--private", "--catalog", catalog.url)
    assert private.returncode == 0 and catalog.row("u-two") == "-|0"

    revoked = run_tessera("catalog", "revoke", "u-one", "u-two", "--group", "g1", "--group", "readers", "--catalog", catalog.url)
    assert revoked.returncode == 0, revoked.stderr
    assert catalog.groups("u-one") == ["g2"]
    assert catalog.groups("u-two") == ["g2"]
    assert catalog.version() == before + 6


def test_one_unknown_dataset_changes_nothing(catalog, run_tessera):
    before = catalog.version()
    for hostile in ("nope", "' OR 1=1 --", "u-one'; DROP TABLE dataset; --"):
        done = run_tessera("catalog", "grant", "u-one", hostile, "--group", "g1", "--catalog", catalog.url)
        assert done.returncode == 1
        assert done.stderr.strip() == f"tessera: error: no dataset {hostile} in the catalog (nothing was changed)"
        assert done.stdout == ""
    assert catalog.groups("u-one") == ["readers"]
    assert catalog.version() == before
    assert catalog.sql("SELECT count(*) FROM dataset") == "2"
    shown = run_tessera("catalog", "show", "missing", "--catalog", catalog.url)
    assert shown.returncode == 1 and "no dataset missing in the catalog" in shown.stderr


def test_the_catalog_comes_from_the_environment(catalog, run_tessera, monkeypatch):
    monkeypatch.setenv("TESSERA_CATALOG", catalog.url)
    done = run_tessera("catalog", "grant", "u-one", "--group", "env")
    assert done.returncode == 0, done.stderr
    assert "env" in catalog.groups("u-one")


def test_bad_arguments_are_clear_errors(run_tessera, tmp_path, monkeypatch):
    monkeypatch.delenv("TESSERA_CATALOG", raising=False)
    done = run_tessera("catalog", "list")
    assert done.returncode == 1
    assert "no catalog named: give --catalog" in done.stderr and "TESSERA_CATALOG" in done.stderr
    missing = tmp_path / "absent.sqlite"
    done = run_tessera("catalog", "list", "--catalog", f"sqlite:{missing}")
    assert done.returncode == 1 and f"no catalog file at {missing}" in done.stderr
    assert not missing.exists()
    done = run_tessera("catalog", "list", "--catalog", "mysql://x@y/z")
    assert done.returncode == 1 and "expected sqlite:PATH or postgres://" in done.stderr
    for args in (["grant", "u-one", "--catalog", "sqlite:/x"],                       # nothing to grant
                 ["grant", "u-one", "--public", "--private", "--catalog", "sqlite:/x"],
                 ["revoke", "u-one", "--catalog", "sqlite:/x"],                      # no group
                 ["grant", "--group", "g", "--catalog", "sqlite:/x"]):              # no dataset
        done = run_tessera("catalog", *args)
        assert done.returncode == 64, (args, done.stderr)


def test_a_dead_postgres_server_is_one_clear_error(run_tessera):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    done = run_tessera("catalog", "list", "--catalog", f"postgres://tessera@127.0.0.1:{port}/cat", timeout=30)
    assert done.returncode == 1
    assert done.stderr.startswith("tessera: error: catalog unreachable: cannot connect to PostgreSQL at 127.0.0.1:")
    assert str(port) in done.stderr and len(done.stderr.strip().splitlines()) == 1
