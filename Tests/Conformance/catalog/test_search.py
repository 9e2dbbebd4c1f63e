"""Must-show 2 of issue 19 over HTTP: `GET /api/datasets?…` answers exactly what Python computes.

The corpus (corpus.py: 520 datasets with known headers; text with accents, `%`, `_`; exposure
under EXPTIME or EXPOSURE; observation dates under DATE-OBS, DATE or MJD-OBS; filters under
FILTER or FILTER1; RA/Dec pairs under RA/DEC or RA_OBJ/DEC_OBJ, crowded at RA 0/360 and the
poles, sometimes with an unpaired RA in another HDU; three groups and public datasets) is
recorded into a SQLite and a PostgreSQL catalogue, each behind its own `tessera serve`
(search_arms.py). For every query of the corpus (text contains/prefix/exact, numeric range,
date range, select, select over a dataset column, cone, free text, combinations, three sorts)
and four viewers (anonymous, one group, two groups, globalaccess), paging with limit=25 through
`next` until null must give exactly the expected uids (computed by corpus.py from its own
headers, never from Tessera's output), in the sort's order, with full pages before the last;
and both stores must give identical answers.
"""

from __future__ import annotations

import math

from pg_server import pg_server  # noqa: F401  (a session fixture search_arms uses)
from search_arms import api, document, search_arms, viewer_headers  # noqa: F401  (search_arms is a fixture)

PAGE = 25  # several pages for most answers (the corpus has 520 datasets), few requests


def expected_order(corpus: dict, uids: list[str], sort: str) -> list[str]:
    """The stable order of each sort: id (= corpus order), name bytewise, observation time
    with unknown last; ties by id."""
    index = {d["uid"]: (i, d) for i, d in enumerate(corpus["datasets"])}

    def key(uid):
        i, d = index[uid]
        if sort == "name":
            return (d["name"].encode(), i)
        if sort == "observed":
            return (d["obs_time"] if d["obs_time"] is not None else 1e300, i)
        return (i,)
    return sorted(uids, key=key)


def all_pages(arm, params, headers) -> list[str]:
    uids, after = [], None
    for _ in range(200):
        status, h, page = api(arm, params + [("limit", str(PAGE))] + ([("after", after)] if after else []), headers)
        assert status == 200, (arm.name, params, status, page)
        assert h["content-type"] == "application/json" and h["cache-control"] == "private, no-store"
        assert page["limit"] == PAGE
        uids += [d["id"] for d in page["datasets"]]
        after = page["next"]
        if after is None:
            assert len(page["datasets"]) <= PAGE
            return uids
        assert len(page["datasets"]) == PAGE, (arm.name, params, "a page before the last is full")
    raise AssertionError(f"{arm.name} {params}: more than 200 pages")


def test_corpus_is_large_and_covers_every_element_type(search_arms):
    _, corpus = search_arms
    assert len(corpus["datasets"]) >= 500
    kinds = {q["element"] for q in corpus["queries"]}
    assert kinds >= {"text contains", "text prefix", "text exact", "range", "dateRange", "select", "select column",
                     "cone", "free text", "combined"}
    for kind in kinds - {"all", "combined"}:
        qs = [q for q in corpus["queries"] if q["element"] == kind]
        assert len(qs) >= 2, kind
        # Not a corpus of empty answers: most queries of each type find something.
        assert sum(bool(q["expected"]["everyone"]) for q in qs) >= len(qs) // 2, kind


def test_every_query_pages_to_exactly_the_expected_ids_on_both_stores(search_arms):
    arms, corpus = search_arms
    checked = 0
    for q in corpus["queries"]:
        params = [tuple(p) for p in q["params"]] + [("sort", q["sort"])]
        for viewer in corpus["viewers"]:
            headers = viewer_headers(viewer)
            expected = expected_order(corpus, q["expected"][viewer["name"]], q["sort"])
            answers = {}
            for arm in arms.values():
                got = all_pages(arm, params, headers)
                where = f"{arm.name}: {q['element']} {q['params']} sort={q['sort']} as {viewer['name']}"
                assert len(got) == len(set(got)), f"{where}: a dataset on two pages"
                assert sorted(got) == sorted(expected), f"{where}: missing {sorted(set(expected) - set(got))[:10]}, extra {sorted(set(got) - set(expected))[:10]}"
                assert got == expected, f"{where}: not in the sort's stable order"
                answers[arm.name] = got
                checked += 1
            assert answers["sqlite"] == answers["postgres"], f"{q['params']} as {viewer['name']}: the stores differ"
    assert checked == 2 * len(corpus["queries"]) * len(corpus["viewers"])


def test_alternate_keys_are_ORed(search_arms):
    """Each alternate spelling alone is found by the element (not only the first key)."""
    arms, corpus = search_arms
    everyone = viewer_headers({"kind": "everyone"})
    ready = [d for d in corpus["datasets"] if d["status"] == "ready"]

    def with_key(key):
        return [d for d in ready if any(r["key"] == key for r in d["rows"])]
    probes = []
    for key in ("EXPTIME", "EXPOSURE"):
        d = with_key(key)[0]
        value = next(r["num"] for r in d["rows"] if r["key"] == key)
        probes.append((d["uid"], [("exptime.min", repr(value)), ("exptime.max", repr(value))]))
    for key in ("DATE-OBS", "DATE", "MJD-OBS"):
        d = with_key(key)[0]
        probes.append((d["uid"], [("observed.from", "1970-01-01"), ("observed.to", "2100-01-01"), ("q", d["name"])]))
    for key in ("FILTER", "FILTER1"):
        d = with_key(key)[0]
        probes.append((d["uid"], [("filter", next(r["str"] for r in d["rows"] if r["key"] == key))]))
    for ra_key, dec_key in (("RA", "DEC"), ("RA_OBJ", "DEC_OBJ")):
        d = next(d for d in ready if any(r["key"] == ra_key and r["scope"] != "hdu9" for r in d["rows"]))
        ra = next(r["num"] for r in d["rows"] if r["key"] == ra_key and r["scope"] != "hdu9")
        dec = next(r["num"] for r in d["rows"] if r["key"] == dec_key)
        probes.append((d["uid"], [("position.ra", repr(ra)), ("position.dec", repr(dec)), ("position.radius", "0.0001")]))
    for key in ("OBJECT", "TARGNAME"):
        d = with_key(key)[0]
        probes.append((d["uid"], [("objexact", next(r["str"] for r in d["rows"] if r["key"] == key))]))
    for uid, params in probes:
        for arm in arms.values():
            got = all_pages(arm, params, everyone)
            assert uid in got, (arm.name, params)


def test_cone_distance_is_great_circle(search_arms):
    """Near the pole a small RA difference is a large angle and a large one a small angle:
    a box in (RA, Dec) would get these wrong."""
    arms, corpus = search_arms
    everyone = viewer_headers({"kind": "everyone"})
    polar = [(d, r, s) for d in corpus["datasets"] if d["status"] == "ready"
             for r in d["rows"] for s in d["rows"]
             if (r["key"], s["key"]) in (("RA", "DEC"), ("RA_OBJ", "DEC_OBJ")) and r["scope"] == s["scope"] and abs(s["num"]) > 89]
    assert polar, "the corpus has positions near the poles"
    d, r, s = polar[0]
    # The same Dec, RA opposite: great-circle distance 2·(90−|Dec|) degrees, RA difference 180.
    opposite = (r["num"] + 180) % 360
    gap = 2 * (90 - abs(s["num"]))
    for radius, inside in ((gap + 1e-3, True), (gap - 1e-3, False)):
        params = [("position.ra", repr(opposite)), ("position.dec", repr(s["num"])), ("position.radius", repr(radius))]
        for arm in arms.values():
            assert (d["uid"] in all_pages(arm, params, everyone)) == inside, (arm.name, params, gap)
    assert math.isclose(gap, math.degrees(2 * math.asin(math.cos(math.radians(s["num"])))), rel_tol=1e-9)


def test_dataset_and_metadata_routes(search_arms):
    arms, corpus = search_arms
    everyone = viewer_headers({"kind": "everyone"})
    ready = [d for d in corpus["datasets"] if d["status"] == "ready"]
    public = next(d for d in ready if d["is_public"])
    hidden = next(d for d in ready if not d["is_public"] and d["owner_group"] == "alpha" and not d["groups"])
    for arm in arms.values():
        for d in ready[:5] + [public, hidden]:
            status, _, summary = api(arm, "", everyone, path=f"/api/datasets/{d['uid']}")
            assert status == 200, (arm.name, d["uid"], summary)
            assert summary["id"] == d["uid"] and summary["name"] == d["name"] and summary["format"] == d["format"]
            assert summary["status"] == "ready"
            assert summary["ownerGroup"] == d["owner_group"] and summary["accessGroups"] == d["groups"]
            assert summary["public"] == d["is_public"]
            status, _, doc = api(arm, "", everyone, path=f"/api/datasets/{d['uid']}/metadata")
            assert status == 200 and doc == document(d), (arm.name, d["uid"])
        # The anonymous caller sees the public one, and the hidden one as a missing one.
        assert api(arm, "", {}, path=f"/api/datasets/{public['uid']}")[0] == 200
        assert api(arm, "", {}, path=f"/api/datasets/{public['uid']}/metadata")[2] == document(public)
        for path in (f"/api/datasets/{hidden['uid']}", f"/api/datasets/{hidden['uid']}/metadata"):
            assert api(arm, "", {}, path=path)[::2] == (404, {"error": "not found"}), (arm.name, path)
        alpha = viewer_headers({"kind": "member", "groups": ["alpha"]})
        assert api(arm, "", alpha, path=f"/api/datasets/{hidden['uid']}")[0] == 200
