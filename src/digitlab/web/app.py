"""The FastAPI application behind `digitlab serve`.

Pages and assets are served from this package (no CDN), so the app works offline. The drawing is
preprocessed by the same code as `digitlab predict`, on the server.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image
from pydantic import BaseModel, Field

from digitlab.errors import DigitlabError
from digitlab.i18n import LANGUAGES, _, current_language, translate
from digitlab.imaging import preprocess
from digitlab.imaging.digit_check import not_a_digit
from digitlab.imaging.prediction import classify
from digitlab.web.limits import BodySizeLimit
from digitlab.web.texts import PAGE_TEXTS

STATIC = Path(__file__).parent / "static"
#: largest request body accepted: a 280x280 canvas PNG is ~20 kB; a phone photo is not a drawing
MAX_BODY_BYTES = 1 << 20
IMAGE_SIDE = 28


class PredictRequest(BaseModel):
    """A drawing: `image`, a PNG/JPEG as base64 or a data URL, or `pixels`, 28 rows of 28
    values in [0, 1] (ink 1, background 0)."""

    image: str | None = Field(default=None, description="PNG or JPEG, base64 or data: URL")
    pixels: list[list[float]] | None = Field(
        default=None, description="28x28 grey values in [0, 1], ink = 1"
    )


class ClassProbability(BaseModel):
    label: str
    probability: float


class PredictResponse(BaseModel):
    probabilities: list[float] = Field(description="one per class, summing to 1")
    classes: list[str]
    top: list[ClassProbability] = Field(description="the three most probable classes")
    input: list[list[float]] = Field(description="the 28x28 image the network saw, in [0, 1]")
    hidden: list[float] = Field(description="the first hidden layer's activations")
    digit: bool = Field(
        default=True, description="false when the drawing holds no digit the network can read"
    )
    reason: str | None = Field(default=None, description="why it is no digit, when it is not")


def create_app(network, runs_dir: Path | None = None, max_body_bytes: int = MAX_BODY_BYTES):
    """The app for `network` (a digitlab network with `.metadata`), listing runs in runs_dir."""
    app = FastAPI(
        title="digitlab",
        description="Draw a digit and watch the network read it.",
        # Swagger UI and ReDoc load from a CDN: only the schema itself is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    classes = [str(c) for c in network.metadata.get("classes", range(network.sizes[-1]))]

    app.add_middleware(BodySizeLimit, limit=max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        # Not JSON at all, or not a JSON object (e.g. a form post): say what to send.
        if first.get("type") == "json_invalid" or tuple(first.get("loc", ())) == ("body",):
            return _error(
                400,
                "the body is not a JSON object; send Content-Type: application/json and "
                '{"image": "data:image/png;base64,..."} or {"pixels": [[...28 numbers...], '
                "...28 rows]}.",
            )
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, f"{where or 'body'}: {first.get('msg', 'invalid request')}.")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return _error(exc.status_code, str(exc.detail))

    @app.post("/api/predict", response_model=PredictResponse)
    def predict_drawing(body: PredictRequest) -> PredictResponse:
        """Read a drawing: class probabilities, the preprocessed 28x28 input, activations."""
        image = _decode(body)
        try:
            x = preprocess(image, name=_("the drawing")).image
        except DigitlabError as exc:
            raise HTTPException(422, str(exc)) from None
        probabilities = classify(network, x)
        reason = not_a_digit(x)
        hidden = _first_hidden_layer(network, x)
        order = np.argsort(probabilities)[::-1][:3]
        return PredictResponse(
            probabilities=probabilities.tolist(),
            classes=classes,
            top=[
                ClassProbability(label=classes[i], probability=float(probabilities[i]))
                for i in order
            ],
            input=np.round(x, 4).tolist(),
            hidden=np.round(hidden, 4).tolist(),
            digit=reason is None,
            reason=reason,
        )

    @app.get("/api/runs")
    def list_runs() -> list[dict]:
        """The runs under --runs, newest first, with their state and last accuracies."""
        return [_run_summary(path) for path in _runs(runs_dir)]

    @app.get("/api/runs/{name}/history")
    def run_history(name: str) -> dict:
        """The run's history.json as written so far (it grows while the run trains)."""
        path = _run_dir(runs_dir, name) / "history.json"
        if not path.is_file():
            return {"loss": [], "train_acc": [], "test_acc": [], "steps_per_epoch": 0}
        return _read_json(path)

    @app.get("/api/texts")
    def page_texts(request: Request, lang: str | None = None) -> dict:
        """The pages' words in `lang` (en, zh), else in the browser's first language
        (Accept-Language) if digitlab speaks it, else the server's: {"lang", "texts"}."""
        chosen = _page_language(lang, request.headers.get("accept-language", ""))
        return {"lang": chosen, "texts": {text: translate(text, chosen) for text in PAGE_TEXTS}}

    @app.get("/", include_in_schema=False)
    def draw_page() -> FileResponse:
        return FileResponse(STATIC / "draw.html")

    @app.get("/runs", include_in_schema=False)
    def runs_page() -> FileResponse:
        return FileResponse(STATIC / "runs.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if runs_dir is not None and Path(runs_dir).is_dir():
        app.mount("/files", StaticFiles(directory=runs_dir, html=True), name="files")
    return app


def _page_language(asked: str | None, accept_language: str) -> str:
    """`asked` if digitlab has it; else the first language of an Accept-Language header that
    digitlab has ("zh-CN,zh;q=0.9,en;q=0.8" -> "zh"); else the server's current language."""
    if asked in LANGUAGES:
        return asked
    for item in accept_language.split(","):
        primary = item.split(";")[0].strip().lower().split("-")[0]
        if primary in LANGUAGES:
            return primary
    return current_language()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _decode(body: PredictRequest) -> Image.Image:
    """The drawing as a PIL image, or an HTTPException naming what is wrong."""
    if (body.image is None) == (body.pixels is None):
        raise HTTPException(
            422, 'send exactly one of "image" (a PNG as base64) or "pixels" (28x28 numbers).'
        )
    if body.pixels is not None:
        pixels = np.asarray(body.pixels, dtype=float) if _rectangular(body.pixels) else None
        if pixels is None or pixels.shape != (IMAGE_SIDE, IMAGE_SIDE):
            shape = "ragged rows" if pixels is None else "x".join(map(str, pixels.shape))
            raise HTTPException(422, f"pixels must be 28 rows of 28 numbers, got {shape}.")
        if not np.all(np.isfinite(pixels)) or pixels.min() < 0 or pixels.max() > 1:
            raise HTTPException(422, "pixels must be numbers from 0 (background) to 1 (ink).")
        return Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="L")
    data = body.image.split(",", 1)[1] if body.image.startswith("data:") else body.image
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(
            422, "image is not valid base64; send canvas.toDataURL() or the base64 of a PNG file."
        ) from None
    try:
        # Only the header is read here; preprocess checks the size before decoding pixels.
        return Image.open(io.BytesIO(raw))
    except (OSError, Image.DecompressionBombError, SyntaxError):
        raise HTTPException(415, "image is not a PNG, JPEG or BMP picture.") from None


def _rectangular(rows: list[list[float]]) -> bool:
    return len({len(row) for row in rows}) <= 1


def _first_hidden_layer(network, pixels: np.ndarray) -> np.ndarray:
    """The first activation layer's output (H,) for one preprocessed digit (28, 28)."""
    x = pixels.reshape(1, -1).astype(network.dtype)
    for layer in network.layers:
        x = layer.forward(x, train=False)
        if layer.elementwise is not None:
            return x[0]
    return np.zeros(0)


def _runs(runs_dir: Path | None) -> list[Path]:
    if runs_dir is None or not Path(runs_dir).is_dir():
        return []
    runs = [
        p
        for p in Path(runs_dir).iterdir()
        if (p / "config.json").is_file() or (p / "history.json").is_file()
    ]
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)


def _run_dir(runs_dir: Path | None, name: str) -> Path:
    for path in _runs(runs_dir):
        if path.name == name:
            return path
    raise HTTPException(404, f"no run called {name!r} under the runs folder.")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}  # missing or damaged (run folders are written atomically, so not half-written)


def _run_summary(path: Path) -> dict:
    history = _read_json(path / "history.json")
    finished = (path / "model.npz").is_file()
    return {
        "name": path.name,
        "state": "finished" if finished else "training",
        "epochs": len(history.get("train_acc", [])),
        "train_acc": (history.get("train_acc") or [None])[-1],
        "test_acc": (history.get("test_acc") or [None])[-1],
        "config": _read_json(path / "config.json"),
        "report": f"/files/{path.name}/report.html" if (path / "report.html").is_file() else None,
    }
