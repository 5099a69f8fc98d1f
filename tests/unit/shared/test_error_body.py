"""Every error is the JSON error body, including a body that is not JSON at all."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from shared.errors import install_error_handlers


class Thing(BaseModel):
    name: str


def _client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def make(thing: Thing) -> dict:
        return {"name": thing.name}

    return TestClient(app)


def test_undecodable_body_is_a_422_with_the_error_body():
    answer = _client().post(
        "/things", content=b"{\xb0)\xf3", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["field"] == "body"


def test_invalid_field_names_its_path():
    answer = _client().post("/things", json={"name": 5})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["errors"][0]["field"] == "name"
