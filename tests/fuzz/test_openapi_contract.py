"""The published OpenAPI says what the services really do: auth, error body, statuses."""

from __future__ import annotations

import pytest

from aftersales_service.app import create_app as aftersales_app
from order_service.app import create_app as order_app
from shared.settings import Settings
from warehouse_service.app import create_app as warehouse_app

APPS = {
    "order": order_app,
    "warehouse": warehouse_app,
    "aftersales": aftersales_app,
}
OPEN = {"/healthz", "/readyz", "/metrics", "/lifecycle"}


@pytest.fixture(params=sorted(APPS), scope="module")
def spec(request, tmp_path_factory) -> dict:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('spec')}/{request.param}.db"
    settings = Settings(service=request.param, **{f"{request.param.upper()}_DATABASE_URL": url})
    return APPS[request.param](settings).openapi()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_bearer_scheme_on_every_keyed_route(spec):
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path, method, op in _operations(spec):
        if path in OPEN or path.startswith("/webhooks/"):
            assert "security" not in op, (method, path)
            continue
        assert op.get("security") == [{"bearer": []}], (method, path)
        assert {"401", "403"} <= set(op["responses"]), (method, path)
        assert "Roles:" in op.get("description", ""), (method, path)


def test_errors_documented_with_the_real_body(spec):
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    body = spec["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["error"]
    info = spec["components"]["schemas"]["ErrorInfo"]
    assert set(info["required"]) == {"code", "message", "details"}
    for path, method, op in _operations(spec):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and (path, status) != ("/readyz", "503"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_every_success_body_has_a_schema(spec):
    for path, method, op in _operations(spec):
        if path == "/metrics":
            assert any(m.startswith("text/plain") for m in op["responses"]["200"]["content"])
            continue
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            content = response.get("content", {})
            schema = next(iter(content.values()))["schema"] if content else {}
            assert (
                schema.get("$ref")
                or schema.get("items", {}).get("$ref")
                or ("svg" in next(iter(content), ""))
            ), (method, path, status, schema)


def test_if_match_required_and_428_412_documented():
    spec = order_app(Settings(service="order")).openapi()
    patch = spec["paths"]["/orders/{order_id}"]["patch"]
    (if_match,) = [p for p in patch["parameters"] if p["name"].lower() == "if-match"]
    assert if_match["required"] is True
    assert {"200", "202", "404", "409", "412", "422", "428"} <= set(patch["responses"])


def test_webhooks_declare_signature_headers_and_body():
    spec = order_app(Settings(service="order")).openapi()
    generic = spec["paths"]["/webhooks/generic/orders"]["post"]
    names = {p["name"] for p in generic["parameters"] if p["in"] == "header"}
    assert {"X-Shop-Id", "X-Timestamp", "X-Signature"} <= names
    assert "requestBody" in generic
    assert {"200", "202", "401", "413", "422"} <= set(generic["responses"])
    shopify = spec["paths"]["/webhooks/shopify/orders"]["post"]
    names = {p["name"] for p in shopify["parameters"] if p["in"] == "header"}
    assert {"X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id"} <= names
