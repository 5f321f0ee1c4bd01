"""Node API with two tenants: isolation, auth, uploads as problem details, limits."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from trust_node.api import create_app, load_api_settings
from trust_node.generate import generate


@dataclass
class Node:
    client: TestClient
    tokens: dict[str, str]
    records: dict[str, pd.DataFrame]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _csv(frame: pd.DataFrame) -> bytes:
    text: str = frame.to_csv(index=False)
    return text.encode()


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    settings = load_api_settings(
        home=tmp_path / "home", database_url=database_url, max_upload_bytes=200_000
    )
    app = create_app(settings)
    svc = app.state.services
    tokens = {
        "acme": svc.registry.add("acme").token,
        "beta": svc.registry.add("beta").token,
        "operator": svc.registry.issue_operator_token().token,
    }
    records = {
        "acme": generate(["IN"], records=4, seed=1).records,
        "beta": generate(["CN"], records=3, seed=2).records,
    }
    with TestClient(app) as client:
        n = Node(client, tokens, records)
        for who, frame in records.items():
            r = client.post(
                "/v1/records?name=mine.csv",
                content=_csv(frame),
                headers={**n.h(who), "Content-Type": "text/csv"},
            )
            assert r.status_code == 201, r.text
        yield n


def test_upload_receipt_and_listing_are_per_tenant(node: Node) -> None:
    for who, frame in node.records.items():
        r = node.client.get("/v1/records?limit=1000", headers=node.h(who))
        assert r.status_code == 200
        body = r.json()
        assert body["count"] == len(frame)
        assert {x["record_id"] for x in body["items"]} == set(frame["record_id"])
    # The same record id under two tenants stays two records.
    same = node.records["acme"].head(1)
    r = node.client.post(
        "/v1/records", content=_csv(same), headers={**node.h("beta"), "Content-Type": "text/csv"}
    )
    assert r.json()["new_records"] == 1
    assert node.client.get("/v1/records", headers=node.h("acme")).json()["count"] == len(
        node.records["acme"]
    )


def test_reupload_makes_a_version(node: Node) -> None:
    frame = node.records["acme"].head(1)
    r = node.client.post(
        "/v1/records", content=_csv(frame), headers={**node.h("acme"), "Content-Type": "text/csv"}
    )
    assert (r.json()["new_records"], r.json()["new_versions"]) == (0, 1)
    rid = frame["record_id"].iloc[0]
    assert node.client.get(f"/v1/records/{rid}/versions", headers=node.h("acme")).json()[
        "versions"
    ] == [1, 2]
    assert (
        node.client.get(f"/v1/records/{rid}?version=1", headers=node.h("acme")).json()["version"]
        == 1
    )


TENANT_ROUTES = (
    "/v1/records/{rid}",
    "/v1/records/{rid}?version=1",
    "/v1/records/{rid}/versions",
    "/v1/records/{rid}/estimate",
    "/v1/records/{rid}/pact",
)


def test_foreign_record_answers_exactly_like_a_missing_one(node: Node) -> None:
    beta_id = node.records["beta"]["record_id"].iloc[0]
    for route in TENANT_ROUTES:
        foreign = node.client.get(route.format(rid=beta_id), headers=node.h("acme"))
        # A missing id of the same length and shape, so even the echoed path has no tell.
        missing_id = beta_id.replace("-F", "-Q", 1)
        assert len(missing_id) == len(beta_id)
        missing = node.client.get(route.format(rid=missing_id), headers=node.h("acme"))
        own = node.client.get(route.format(rid=beta_id), headers=node.h("beta"))
        assert own.status_code == 200, (route, own.text)
        assert foreign.status_code == missing.status_code == 404, route
        assert foreign.headers["content-type"] == "application/problem+json"
        f, m = foreign.json(), missing.json()
        assert f.pop("instance").replace(beta_id, "X") == m.pop("instance").replace(missing_id, "X")
        assert f == m, route


def test_aggregates_never_include_the_other_tenant(node: Node) -> None:
    acme_ids = set(node.records["acme"]["record_id"])
    est = node.client.get("/v1/estimates", headers=node.h("acme")).json()
    assert est["count"] == len(acme_ids)
    assert {x["record_id"] for x in est["items"]} == acme_ids
    pact = node.client.get("/v1/exports/pact", headers=node.h("acme")).json()
    assert {p["productIds"][0].rsplit(":", 1)[1] for p in pact["data"]} <= acme_ids
    csv = node.client.get("/v1/exports/cbam-summary.csv", headers=node.h("acme")).text
    frame = pd.read_csv(io.StringIO(csv))
    assert set(frame["installation_id"]) == set(node.records["acme"]["facility_id"])
    assert set(frame["country"]) == {"IN"}


def test_tokens_missing_wrong_revoked_rotated(node: Node) -> None:
    c = node.client
    assert c.get("/v1/records").status_code == 401
    r = c.get("/v1/records", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.headers["content-type"] == "application/problem+json"
    # Operator rotates acme: the old token is refused, the new one works.
    r = c.post("/operator/tenants/acme/rotate", headers=node.h("operator"))
    new = r.json()["token"]
    assert c.get("/v1/records", headers=node.h("acme")).status_code == 401
    assert c.get("/v1/records", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    # Revoked: refused.
    assert c.post("/operator/tenants/acme/revoke", headers=node.h("operator")).status_code == 200
    assert c.get("/v1/records", headers={"Authorization": f"Bearer {new}"}).status_code == 401


def test_operator_and_tenant_routes_are_separate(node: Node) -> None:
    c = node.client
    assert c.get("/operator/tenants", headers=node.h("acme")).status_code == 403
    assert c.get("/v1/records", headers=node.h("operator")).status_code == 403
    tenants = c.get("/operator/tenants", headers=node.h("operator")).json()
    assert [t["tenant_id"] for t in tenants] == ["acme", "beta"]
    r = c.post("/operator/tenants", json={"name": "gamma"}, headers=node.h("operator"))
    assert r.status_code == 201
    assert (
        c.get("/v1/records", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()[
            "count"
        ]
        == 0
    )
    assert (
        c.post("/operator/tenants", json={"name": "gamma"}, headers=node.h("operator")).status_code
        == 409
    )


def test_upload_errors_name_rows_and_columns(node: Node) -> None:
    frame = node.records["acme"].copy()
    frame.loc[1, "production_t"] = -5
    frame.loc[2, "sector"] = "textiles"
    r = node.client.post(
        "/v1/records", content=_csv(frame), headers={**node.h("acme"), "Content-Type": "text/csv"}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["title"] == "Upload rejected" and body["instance"] == "/v1/records"
    where = {(e["row"], e["column"]) for e in body["errors"]}
    assert (2, "production_t") in where and (3, "sector") in where
    # All or nothing: the versions did not move.
    rid = frame["record_id"].iloc[0]
    assert node.client.get(f"/v1/records/{rid}/versions", headers=node.h("acme")).json()[
        "versions"
    ] == [1]


def test_json_and_parquet_uploads(node: Node) -> None:
    frame = generate(["DE"], records=2, seed=9).records
    as_json = frame.to_json(orient="records").encode()
    r = node.client.post(
        "/v1/records",
        content=as_json,
        headers={**node.h("acme"), "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    r = node.client.post(
        "/v1/records",
        content=buf.getvalue(),
        headers={**node.h("acme"), "Content-Type": "application/vnd.apache.parquet"},
    )
    assert r.status_code == 201 and r.json()["new_versions"] == len(frame)


def test_size_and_content_type_limits(node: Node) -> None:
    r = node.client.post(
        "/v1/records",
        content=b"x" * 200_001,
        headers={**node.h("acme"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 413 and r.json()["limit_bytes"] == 200_000
    r = node.client.post(
        "/v1/records",
        content=b"a,b\n1,2\n",
        headers={**node.h("acme"), "Content-Type": "application/xml"},
    )
    assert r.status_code == 415 and "text/csv" in r.json()["accepted"]


def test_consent_set_read_and_logged(node: Node) -> None:
    c = node.client
    assert c.get("/v1/consent", headers=node.h("acme")).json()["scopes"] == []
    r = c.put("/v1/consent", json={"scopes": ["statistics", "training"]}, headers=node.h("acme"))
    assert r.json()["scopes"] == ["training", "statistics"]
    c.put("/v1/consent", json={"scopes": []}, headers=node.h("acme"))
    assert len(c.get("/v1/consent/history", headers=node.h("acme")).json()) == 2
    assert c.get("/v1/consent/history", headers=node.h("beta")).json() == []
    r = c.put("/v1/consent", json={"scopes": ["marketing"]}, headers=node.h("acme"))
    assert r.status_code == 422 and r.json()["errors"][0]["location"].startswith("body")
    log = c.get("/operator/consent-log", headers=node.h("operator")).text.splitlines()
    from trust_node.tenants import verify_consent_log

    assert verify_consent_log([json.loads(x) for x in log]) == 2


def test_openapi_documents_auth_and_problems(node: Node) -> None:
    spec = node.client.get("/openapi.json").json()
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert "Problem" in spec["components"]["schemas"]
    assert "/v1/records/{record_id}/estimate" in spec["paths"]
