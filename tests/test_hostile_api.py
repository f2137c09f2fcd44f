"""Hostile API bodies: whatever JSON (or not JSON) is posted to `/api/predict`, the server answers
200 with a reading or a 4xx `{"error": ...}` — never a 500, never another shape."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")
pytest.importorskip("httpx2", reason="FastAPI's test client needs httpx2")
from fastapi.testclient import TestClient

from digitlab.web.app import create_app
from hostile import JSON_VALUES, SETTINGS

LOCAL = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def client(web_network, runs_dir):
    return TestClient(create_app(web_network, runs_dir), base_url=LOCAL)


def post(client, body):
    """POST `body` as JSON_VALUES, NaN and Infinity included (Python's json writes them; a client
    library would refuse to)."""
    return client.post(
        "/api/predict",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )


def answered(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    else:
        body = response.json()
        assert abs(sum(body["probabilities"]) - 1) < 1e-6


def png_data_url(width: int, height: int, seed: int) -> str:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@SETTINGS
@given(body=JSON_VALUES)
def test_any_json_body(client, body):
    answered(post(client, body))


@SETTINGS
@given(
    image=st.one_of(
        st.text(max_size=40),
        st.binary(max_size=64).map(
            lambda b: "data:image/png;base64," + base64.b64encode(b).decode()
        ),
        st.builds(png_data_url, st.integers(1, 300), st.integers(1, 300), st.integers(0, 9)),
    )
)
def test_any_image_field(client, image):
    answered(post(client, {"image": image}))


@SETTINGS
@given(
    pixels=st.lists(
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=30),
        min_size=0,
        max_size=30,
    )
)
def test_any_pixels_field(client, pixels):
    answered(post(client, {"pixels": pixels}))


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_any_bytes_as_body(client, raw):
    answered(client.post("/api/predict", content=raw, headers={"content-type": "application/json"}))


def test_deeply_nested_json_body(client):
    answered(
        client.post(
            "/api/predict",
            content=b"[" * 50_000 + b"]" * 50_000,
            headers={"content-type": "application/json"},
        )
    )
    answered(post(client, {"image": "data:image/png;base64"}))
