"""The OpenAPI document: OpenAPI 3.1 in shape, in step with the routes the HTTP API serves, every $ref resolvable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from chargewise import __version__
from chargewise.adapters import http_api
from chargewise.adapters.api_models import openapi_document
from chargewise.services.connections import Registry

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
UNDOCUMENTED = {("get", "/openapi.json")}  # the document does not describe itself (as FastAPI's does not)
UNDOCUMENTED |= {("get", "/firmware/{token}/{filename}")}  # image downloads for chargers (signed links), not REST
UNDOCUMENTED |= {("get", "/api/v1/chargers/{id}/trace/stream")}  # endless NDJSON (README: message trace)
UNDOCUMENTED |= {("get", "/"), ("get", "/dashboard/{path}")}  # the web dashboard's page and files (not an API)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return openapi_document()


def served_routes() -> set[tuple[str, str]]:
    """(method, path template) of every route ``http_api.build`` registers (HEAD is aiohttp's automatic twin)."""
    deps = SimpleNamespace(
        sites=None,
        tokens=None,
        webhooks=None,
        jobs=None,
        registry=Registry(),
        admin=None,
        records=None,
        ledger=None,
        admin_token="x",
        firmware=None,
        events=None,
        logs=None,
        local_lists=None,
        reservations=None,
        certs=None,
        cluster=None,
        trace=None,
        metrics=None,
    )  # routing does not touch the services
    web_app = http_api.build(cast("Any", deps))
    return {
        (route.method.lower(), route.resource.canonical)
        for route in web_app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield method, path, op


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer (``#/a/b``); KeyError if it leads nowhere."""
    assert ref.startswith("#/"), f"only local references are expected: {ref}"
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_top_level_is_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "chargewise", "version": __version__}
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert set(doc) <= {"openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components",
                        "security", "tags", "externalDocs"}  # fmt: skip


def test_every_served_route_is_documented_and_nothing_else(doc: dict[str, Any]) -> None:
    documented = {(method, path) for method, path, _ in operations(doc)}
    assert documented == served_routes() - UNDOCUMENTED
    assert served_routes() >= UNDOCUMENTED


def test_every_ref_resolves_to_a_component_schema(doc: dict[str, Any]) -> None:
    found = list(refs(doc))
    assert found, "the document should reference its models"
    for ref in found:
        assert ref.startswith("#/components/schemas/"), ref
        assert isinstance(resolve(doc, ref), dict), ref


def test_every_component_is_used(doc: dict[str, Any]) -> None:
    used = {ref.rsplit("/", 1)[1] for ref in refs(doc)}
    assert set(doc["components"]["schemas"]) == used


def test_operations_are_well_formed(doc: dict[str, Any]) -> None:
    for method, path, op in operations(doc):
        where = f"{method.upper()} {path}"
        assert method in METHODS, where
        assert op["summary"], where
        assert any(status.startswith("2") for status in op["responses"]), where
        for status, response in op["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", status), where
            assert response["description"], where
        templated = re.findall(r"\{(\w+)\}", path)
        declared = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        assert declared == templated, where
        assert all(p["required"] is True for p in op.get("parameters", []) if p["in"] == "path"), where
        assert (op.get("security", [{}])[0] == {"bearer": []}) is path.startswith("/api/"), where


def test_request_bodies_and_created_statuses(doc: dict[str, Any]) -> None:
    with_body = {(m, p) for m, p, op in operations(doc) if "requestBody" in op}
    assert with_body == {
        ("post", "/api/v1/chargers"),
        ("post", "/api/v1/chargers/{id}/calls"),
        ("put", "/api/v1/chargers/{id}/password"),
        ("put", "/api/v1/chargers/{id}/quirks"),
        ("post", "/api/v1/tokens"),
        ("put", "/api/v1/sites/{name}/meter"),
        ("put", "/api/v1/sites/{name}/evses/{charger}/{evse}/mode"),
        ("put", "/api/v1/sites/{name}/evses/{charger}/{evse}/session"),
        ("post", "/api/v1/demand-response/events"),
        ("put", "/api/v1/sites/{name}"),
        ("post", "/api/v1/firmware/campaigns"),  # (artifact uploads: multipart)
        ("post", "/api/v1/chargers/{id}/logs"),
        *((m, p) for m in ("put", "post") for p in ("/uploads/{token}", "/uploads/{token}/{name}")),
        ("post", "/api/v1/chargers/{id}/local-list"),
        ("post", "/api/v1/local-lists/push"),
        ("put", "/api/v1/chargers/{id}/local-list/cache-policy"),
        ("post", "/api/v1/chargers/{id}/reservations"),
        ("post", "/api/v1/chargers/{id}/certificates"),
        ("post", "/api/v1/chargers/{id}/password-rotation"),
        ("post", "/api/v1/chargers/{id}/security-profile"),
        ("post", "/api/v1/api-tokens"),
        ("post", "/api/v1/webhooks"),
        ("post", "/api/v1/chargers/{id}/jobs"),
        ("put", "/api/v1/chargers/{id}/configuration"),
        ("post", "/api/v1/tokens.csv"),
    }  # fmt: skip
    paths = doc["paths"]
    assert "201" in paths["/api/v1/demand-response/events"]["post"]["responses"]
    assert "201" in paths["/api/v1/chargers"]["post"]["responses"]
    assert "201" in paths["/api/v1/tokens"]["post"]["responses"]
    assert "202" in paths["/api/v1/chargers/{id}/jobs"]["post"]["responses"]
    assert set(paths["/api/v1/chargers/{id}"]["delete"]["responses"]) == {"204", "401", "403", "404", "503"}
    assert set(paths["/api/v1/chargers/{id}/calls"]["post"]["responses"]) == {"200", "202", "400", "401", "403",
                                                                              "409", "422", "503", "504"}  # fmt: skip


def test_operations_with_a_body_document_the_422_they_answer_to_a_bad_one(doc: dict[str, Any]) -> None:
    # http_common.body() answers 422 with a Problem to any body that does not decode into the request model
    # (and add_charger answers 422 to a password outside 16-40 characters)
    with_body = [(m, p, op) for m, p, op in operations(doc)
                 if "application/json" in op.get("requestBody", {}).get("content", {})]  # fmt: skip
    missing = [f"{m.upper()} {p}" for m, p, op in with_body if "422" not in op["responses"]]
    assert missing == []


def test_every_api_operation_documents_401_and_403(doc: dict[str, Any]) -> None:
    missing = [f"{m} {p}" for m, p, op in operations(doc) if p.startswith("/api/")
               and not {"401", "403"} <= set(op["responses"])]  # fmt: skip
    assert missing == []


def test_transaction_view_carries_energy_and_samples(doc: dict[str, Any]) -> None:
    ok = doc["paths"]["/api/v1/transactions/{id}"]["get"]["responses"]["200"]
    view = resolve(doc, ok["content"]["application/json"]["schema"]["$ref"])
    assert {"id", "charger_id", "energy_wh", "meter_samples", "active", "started_at"} <= set(view["properties"])
    listing = doc["paths"]["/api/v1/transactions"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listing["schema"]["type"] == "array"
    assert listing["schema"]["items"]["$ref"] == ok["content"]["application/json"]["schema"]["$ref"]


def test_errors_are_problems(doc: dict[str, Any]) -> None:
    for method, path, op in operations(doc):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, f"{method} {path} {status}"
    assert resolve(doc, "#/components/schemas/Problem")["required"] == ["code", "message", "fix", "error"]


def test_every_list_documents_its_paging(doc: dict[str, Any]) -> None:
    lists = [(path, op) for method, path, op in operations(doc) if method == "get" and path.startswith("/api/")
             and "{" not in path]  # fmt: skip
    # sites (one per --site file) and demand-response events are short lists, answered whole
    unpaged = {"/api/v1/sites", "/api/v1/demand-response/events", "/api/v1/events"}  # the last: an endless stream
    unpaged |= {"/api/v1/firmware/artifacts", "/api/v1/firmware/campaigns"}  # a few images and campaigns
    unpaged |= {"/api/v1/logs", "/api/v1/reservations"}
    unpaged |= {"/api/v1/ca", "/api/v1/cluster"}  # one object each, no list
    # so are API tokens and webhooks (an admin's few), and the CSV exports (every row, streamed)
    unpaged |= {"/api/v1/api-tokens", "/api/v1/webhooks", "/api/v1/tokens.csv", "/api/v1/transactions.csv"}
    assert {path for path, _ in lists} - unpaged == {"/api/v1/chargers", "/api/v1/transactions", "/api/v1/tokens",
                                                     "/api/v1/jobs"}  # fmt: skip
    lists = [(path, op) for path, op in lists if path not in unpaged]
    for path, op in lists:
        assert [p["name"] for p in op["parameters"]][:2] == ["limit", "cursor"], path
        assert set(op["responses"]["200"]["headers"]) == {"X-Total-Count", "Link"}, path
        assert "400" in op["responses"], path
