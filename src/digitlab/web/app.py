"""The FastAPI application behind `digitlab serve`.

Pages and assets are served from this package (no CDN; Plotly.js from the installed plotly
package), so the app works offline. A drawing, or a photo sent as a file, is read by the same
code as `digitlab predict`, on the server, and answered with what the page shows: the
probabilities, the 28x28 input, the activations inside and each class's saliency map. Answers
and errors speak the page's language.
"""

from __future__ import annotations

import copy
import threading
from importlib import resources
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from digitlab.errors import DigitlabError, ModelFileError
from digitlab.i18n import _, speaking, translate
from digitlab.imaging.prediction import (
    class_names,
    network_input,
    predict,
    resolve_model,
    saliency,
)
from digitlab.web import runs
from digitlab.web.drawing import PICTURE_TYPES, decode_drawing, open_picture
from digitlab.web.limits import BodySizeLimit
from digitlab.web.security import CatchUnexpected, HostCheck, SecurityHeaders
from digitlab.web.settings import LOOPBACK_HOSTS, MAX_BODY_BYTES, MAX_PICTURE_BYTES
from digitlab.web.texts import PAGE_TEXTS, page_language

STATIC = Path(__file__).parent / "static"
PICTURE_PATH = "/api/predict/picture"


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
    hidden: list[float] = Field(description="the first fully connected hidden layer's activations")
    feature_maps: list[list[list[float]]] = Field(
        default_factory=list,
        description="a conv net's first convolution's maps after its activation, (FN, OH, OW); "
        "empty for a network without convolutions",
    )
    digit: bool = Field(
        default=True, description="false when the drawing holds no digit the network can read"
    )
    reason: str | None = Field(default=None, description="why it is no digit, when it is not")
    unsure: bool = Field(
        default=False,
        description="a digit, but its most probable class is below "
        "digitlab.imaging.prediction.UNSURE_BELOW: a guess",
    )
    saliency: list[list[list[float]]] = Field(
        default_factory=list,
        description="per class, (C, 28, 28): the gradient of the class's score with respect to "
        "the input pixels, divided by its largest absolute value (so in [-1, 1]); positive where "
        "more ink would raise the class, negative where it would lower it; empty for no digit",
    )


def create_app(
    network,
    runs_dir: Path | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS,
):
    """The app for `network` (a digitlab network with `.metadata`), listing runs in runs_dir.

    allowed_hosts: the Host names it answers to (see security.HostCheck); None for any.
    Raises ModelFileError for a network that does not read 28x28 pictures, or whose class
    names do not match its outputs: better one line at startup than a 500 on every drawing.
    """
    network = resolve_model(network)
    classes = class_names(network)
    _check_classes(network, classes)
    # A backward pass reads what its forward pass cached in the layers: two requests on one
    # network at once would mix their caches. Each worker thread reads with its own copy.
    own = threading.local()

    def own_network():
        if not hasattr(own, "network"):
            own.network = copy.deepcopy(network)
        return own.network

    app = FastAPI(
        title="digitlab",
        description="Draw a digit and watch the network read it.",
        # Swagger UI and ReDoc load from a CDN: only the schema itself is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    # added innermost first: CatchUnexpected sees every layer's failure, and SecurityHeaders,
    # outermost, puts its headers on every answer, the other middlewares' refusals included
    app.add_middleware(
        BodySizeLimit,
        limit=max_body_bytes,
        larger={PICTURE_PATH: max(max_body_bytes, MAX_PICTURE_BYTES)},
    )
    app.add_middleware(CatchUnexpected)
    app.add_middleware(HostCheck, allowed_hosts=allowed_hosts)
    app.add_middleware(SecurityHeaders)
    # the chart library is 4.8 MB, 1.7 MB compressed at level 1; a reading's JSON (~200 KB with
    # a conv net's feature maps) shrinks too. Level 9 added about 75 ms to a reading (measured
    # in-process), level 1 about 20 ms
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=1)

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

    # Starlette's HTTPException: the routes' own, and the 404s and 405s of routing and files
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, _http_error_message(request, exc))

    def read(picture: Image.Image, drawn: bool, lang: str) -> PredictResponse:
        """The answer for a drawing (`drawn`) or a photo or scan, in the page's language."""
        with speaking(lang):
            network = own_network()
            name = _("the drawing") if drawn else _("the picture")
            try:
                reading = predict(network, picture, name=name, drawn=drawn)
            except DigitlabError as exc:
                raise HTTPException(422, str(exc)) from None
            return _response(network, reading)

    @app.post("/api/predict", response_model=PredictResponse)
    def predict_drawing(
        body: PredictRequest, request: Request, lang: str | None = None
    ) -> PredictResponse:
        """Read a drawing: class probabilities, the preprocessed 28x28 input, activations, and
        each class's saliency. Strokes that run to the pad's edge are part of the digit."""
        language = page_language(lang, request.headers.get("accept-language", ""))
        with speaking(language):
            picture = decode_drawing(body.image, body.pixels)
        return read(picture, True, language)

    @app.post(
        PICTURE_PATH,
        response_model=PredictResponse,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in PICTURE_TYPES
                },
            }
        },
    )
    async def predict_picture(request: Request, lang: str | None = None) -> PredictResponse:
        """Read a photo or scan of a digit sent as the body itself (a PNG or JPEG file, up to
        MAX_PICTURE_BYTES), preprocessed as `digitlab predict` does it: the same answer."""
        language = page_language(lang, request.headers.get("accept-language", ""))
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        with speaking(language):
            if kind not in PICTURE_TYPES:
                raise HTTPException(
                    415,
                    _("send the picture itself as the body, with Content-Type {types}.").format(
                        types=" or ".join(PICTURE_TYPES)
                    ),
                )
            picture = open_picture(await request.body())
        return await run_in_threadpool(read, picture, False, language)

    @app.get("/api/runs")
    def list_runs() -> list[dict]:
        """The runs under --runs, newest first, with their state and last accuracies; a run
        whose files cannot be read has state "unreadable" and says why in "problem"."""
        return [runs.run_summary(path) for path in runs.list_runs(runs_dir)]

    @app.get("/api/runs/{name}/history")
    def run_history(name: str) -> dict:
        """The run's history.json as written so far (it grows while the run trains)."""
        run = runs.find_run(runs_dir, name)
        if run is None:
            raise HTTPException(404, f"no run called {name!r} under the runs folder.")
        try:
            return runs.read_history(run)
        except runs.UnreadableRunFileError as exc:
            raise HTTPException(422, f"run {name!r}: {exc}.") from None

    @app.get("/api/texts")
    def page_texts(request: Request, lang: str | None = None) -> dict:
        """The pages' words in `lang` (en, zh), else in the browser's first language
        (Accept-Language) if digitlab speaks it, else the server's: {"lang", "texts"}."""
        chosen = page_language(lang, request.headers.get("accept-language", ""))
        return {"lang": chosen, "texts": {text: translate(text, chosen) for text in PAGE_TEXTS}}

    @app.get("/", include_in_schema=False)
    def draw_page() -> FileResponse:
        return FileResponse(STATIC / "draw.html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # what browsers ask for before reading <link rel="icon">
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def chart_library() -> FileResponse:
        """Plotly.js as the plotly package installs it: the runs page's charts, never a CDN."""
        return FileResponse(
            resources.files("plotly") / "package_data" / "plotly.min.js",
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/runs", include_in_schema=False)
    def runs_page() -> FileResponse:
        return FileResponse(STATIC / "runs.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if runs_dir is not None:
        # check_dir=False: the runs folder may be made after the server starts (runs/ on a
        # fresh checkout); its files are found from then on
        files = StaticFiles(directory=runs_dir, html=True, check_dir=False)
        app.mount("/files", files, name="files")
    return app


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _http_error_message(request: Request, exc: StarletteHTTPException) -> str:
    """The route's own message, or one that says what to do for routing's bare 404 and 405."""
    if exc.status_code == 404 and exc.detail == "Not Found":
        return f"nothing at {request.url.path}; the pages are / and /runs, the API /api/..."
    if exc.status_code == 405:
        return f"{request.method} is not answered at {request.url.path}; see /api/openapi.json."
    return str(exc.detail)


def _check_classes(network, classes: list[str]) -> None:
    outputs = network.output_size
    if len(classes) != outputs:
        raise ModelFileError(
            _(
                "the model {model} names {count} classes but has {outputs} outputs; "
                "retrain it or fix the classes in its metadata"
            ).format(model=network, count=len(classes), outputs=outputs)
        )


def _response(network, reading) -> PredictResponse:
    """What the page shows of a Prediction: the probabilities and top three, the input, the
    hidden activations, feature maps and saliency (the last three for a digit only)."""
    order = np.argsort(reading.probabilities)[::-1][:3]
    hidden, maps, why = np.zeros(0), np.zeros((0, 0, 0)), np.zeros((0, 28, 28))
    if reading.digit:
        hidden, maps = _inside(network, reading.input)
        why = saliency(network, reading.input)
        why /= np.maximum(np.abs(why).max(axis=(1, 2), keepdims=True), 1e-12)
    return PredictResponse(
        probabilities=reading.probabilities.tolist(),
        classes=reading.classes,
        top=[
            ClassProbability(label=reading.classes[i], probability=float(reading.probabilities[i]))
            for i in order
        ],
        input=np.round(reading.input, 4).tolist(),
        hidden=np.round(hidden, 4).tolist(),
        feature_maps=np.round(maps, 3).tolist(),
        digit=reading.digit,
        reason=reading.reason,
        unsure=reading.unsure,
        saliency=np.round(why, 3).tolist(),
    )


def _inside(network, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For one preprocessed digit (28, 28): the first fully connected activation layer's
    output (H,), and a conv net's first activation of images (FN, OH, OW) (else empty)."""
    # the input the network classified: normalized as its model file says
    outputs = network.activations(network_input(network, pixels)[0]).values()
    hidden = next((x[0] for x in outputs if x.ndim == 2), np.zeros(0))
    maps = next((x[0] for x in outputs if x.ndim == 4), np.zeros((0, 0, 0)))
    return hidden, maps
