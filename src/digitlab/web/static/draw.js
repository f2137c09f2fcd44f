// The draw page: strokes on a canvas, sent as a PNG to /api/predict while drawing.
"use strict";
const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const bars = document.getElementById("bars");
const answer = document.getElementById("answer");
let drawing = false, last = null, inFlight = false, pending = false, strokes = 0;

function reset() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
  strokes = 0;
  answer.textContent = "";
  answer.dataset.label = "";
  answer.dataset.probability = "";
  renderBars(null);
  clearCanvas(document.getElementById("seen"));
  clearCanvas(document.getElementById("hidden"));
  clearCanvas(document.getElementById("maps"));
}

function clearCanvas(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width,
          (event.clientY - box.top) * pad.height / box.height];
}

function line(from, to) {
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = 18;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(from[0], from[1]);
  ctx.lineTo(to[0], to[1]);
  ctx.stroke();
}

pad.addEventListener("pointerdown", (event) => {
  drawing = true;
  last = point(event);
  line(last, last);
  strokes += 1;
  pad.setPointerCapture(event.pointerId);
  requestPrediction();
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const next = point(event);
  line(last, next);
  last = next;
  requestPrediction();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => { if (drawing) { drawing = false; requestPrediction(); } });
}
document.getElementById("clear").addEventListener("click", reset);
document.addEventListener("keydown", (event) => {
  if ((event.key === "c" || event.key === "C" || event.key === "Escape") && !event.ctrlKey && !event.metaKey) {
    reset();
  }
});

// At most one request in flight; the latest drawing is sent when it returns.
function requestPrediction() {
  if (strokes === 0) return;
  if (inFlight) { pending = true; return; }
  inFlight = true;
  pending = false;
  document.body.dataset.busy = "1";  // lets tests (and styles) know a reading is on its way
  // the reason of a "no digit" answer in the page's language, as the page's own words
  fetch(`/api/predict?lang=${encodeURIComponent(document.documentElement.lang || "")}`, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({image: pad.toDataURL("image/png")}),
  }).then((r) => r.json().then((body) => ({ok: r.ok, body})))
    .then(({ok, body}) => { if (ok) show(body); else answer.textContent = body.error; })
    .catch((error) => { answer.textContent = t("The server did not answer:") + " " + error; })
    .finally(() => {
      inFlight = false;
      if (pending) requestPrediction(); else document.body.dataset.busy = "0";
    });
}

function show(result) {
  if (strokes === 0) return;  // cleared while the request was out
  const best = result.top[0];
  // No digit: say so instead of a confident label (textContent: the reason is plain text).
  answer.textContent = result.digit === false
    ? `${t("No digit found:")} ${result.reason}`
    : `${best.label} · ${(100 * best.probability).toFixed(1)}%`;
  answer.dataset.label = best.label;
  answer.dataset.probability = best.probability.toFixed(4);
  renderBars(result);
  paintGrey(document.getElementById("seen"), result.input);
  paintHidden(document.getElementById("hidden"), result.hidden);
  const maps = result.feature_maps || [];
  document.getElementById("maps-part").hidden = maps.length === 0;
  if (maps.length) paintMaps(document.getElementById("maps"), maps);
}

// Built from elements and text nodes, never HTML: class names come from the model file, and
// a file from anywhere may name a class `<img src=x onerror=...>`.
function renderBars(result) {
  bars.replaceChildren();
  const n = result ? result.classes.length : 10;
  for (let i = 0; i < n; i++) {
    const name = result ? String(result.classes[i]) : String(i);
    const shown = `${(100 * (result ? result.probabilities[i] : 0)).toFixed(1)}%`;
    const item = document.createElement("li");
    if (result && name === result.top[0].label) item.className = "top";
    const fill = document.createElement("span");
    fill.style.width = shown;  // a CSSOM property, which the Content-Security-Policy allows
    item.append(textSpan(name), textSpan("", "bar", fill), textSpan(shown, "value"));
    item.setAttribute("aria-label", `${name}: ${shown}`);
    bars.appendChild(item);
  }
}

function textSpan(text, className = "", child = null) {
  const span = document.createElement("span");
  span.textContent = text;
  if (className) span.className = className;
  if (child) span.appendChild(child);
  return span;
}

function paintGrey(canvas, rows) {
  const g = canvas.getContext("2d");
  const image = g.createImageData(28, 28);
  rows.flat().forEach((v, i) => {
    const c = Math.round(255 * v);
    image.data.set([c, c, c, 255], 4 * i);
  });
  g.putImageData(image, 0, 0);
}

function paintHidden(canvas, values) {
  const side = Math.ceil(Math.sqrt(values.length));
  canvas.width = side;
  canvas.height = Math.ceil(values.length / side);
  const g = canvas.getContext("2d");
  const image = g.createImageData(canvas.width, canvas.height);
  const top = Math.max(1e-9, ...values);
  values.forEach((v, i) => image.data.set(warm(v, top), 4 * i));
  g.putImageData(image, 0, 0);
}

// An activation v as a warm colour: black at 0, light yellow at `top`.
function warm(v, top) {
  const c = Math.round(255 * Math.max(0, v) / top);
  return [c, Math.round(c * 0.85), 40 + Math.round(c * 0.4), 255];
}

// A conv net's feature maps (FN, OH, OW) as tiles in a grid, one pixel apart, on one scale.
function paintMaps(canvas, maps) {
  const h = maps[0].length, w = maps[0][0].length;
  const columns = Math.ceil(Math.sqrt(maps.length));
  const rows = Math.ceil(maps.length / columns);
  canvas.width = columns * (w + 1) - 1;
  canvas.height = rows * (h + 1) - 1;
  const g = canvas.getContext("2d");
  const image = g.createImageData(canvas.width, canvas.height);
  const top = Math.max(1e-9, ...maps.map((m) => Math.max(...m.map((row) => Math.max(...row)))));
  maps.forEach((map, k) => {
    const left = (k % columns) * (w + 1), upper = Math.floor(k / columns) * (h + 1);
    map.forEach((row, y) => row.forEach((v, x) => {
      image.data.set(warm(v, top), 4 * ((upper + y) * canvas.width + left + x));
    }));
  });
  g.putImageData(image, 0, 0);
}

reset();
