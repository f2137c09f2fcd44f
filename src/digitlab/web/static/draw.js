// The draw page: strokes on a canvas (or a picture opened or dropped on it), read by the server
// through the same preprocessing as `digitlab predict`, with the reading shown as it comes.
"use strict";
const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const bars = document.getElementById("bars");
const answer = document.getElementById("answer");
const whyClass = document.getElementById("why-class");

//: pen travel (in pad pixels, of 280) before a drawing is worth reading: a tap or a short
//: scratch is not yet a digit, and reading it would only flash "no digit"
const MIN_INK = 40;

let strokes = [];          // each {width, points: [[x, y], ...]}, in the order drawn
let stroke = null;         // the stroke under the pen, or null
let pointer = null;        // the id of the pointer drawing it
let generation = 0;        // bumped by every clear: answers to an older drawing are dropped
let inFlight = false, pending = null;
let result = null;         // the latest reading shown
let chosenClass = null;    // the class whose saliency is shown, when the reader picked one

function clearPad() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
}

function reset() {
  generation += 1;
  if (pointer !== null && pad.hasPointerCapture(pointer)) pad.releasePointerCapture(pointer);
  stroke = null;
  pointer = null;
  strokes = [];
  pending = null;
  chosenClass = null;
  clearPad();
  showNothing();
}

function showNothing() {
  result = null;
  answer.textContent = "";
  answer.dataset.label = "";
  answer.dataset.probability = "";
  answer.dataset.kind = "";
  renderBars(null);
  for (const id of ["seen", "hidden", "maps", "why"]) clearCanvas(document.getElementById(id));
  whyClass.replaceChildren();
  document.getElementById("why").dataset.class = "";
}

function clearCanvas(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

function point(event) {
  const box = pad.getBoundingClientRect();
  // clamped to the pad: a stroke that runs past its edge is drawn up to the edge, not lost
  const x = Math.min(Math.max(event.clientX - box.left, 0), box.width);
  const y = Math.min(Math.max(event.clientY - box.top, 0), box.height);
  return [x * pad.width / box.width, y * pad.height / box.height];
}

function drawStroke(s) {
  ctx.strokeStyle = "#fff";
  ctx.fillStyle = "#fff";
  ctx.lineWidth = s.width;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  const [x0, y0] = s.points[0];
  ctx.moveTo(x0, y0);
  for (const [x, y] of s.points.slice(1)) ctx.lineTo(x, y);
  if (s.points.length === 1) ctx.lineTo(x0, y0);  // a dot
  ctx.stroke();
}

function redraw() {
  clearPad();
  strokes.forEach(drawStroke);
}

function ink() {
  let length = 0;
  for (const s of strokes) {
    for (let i = 1; i < s.points.length; i++) {
      length += Math.hypot(s.points[i][0] - s.points[i - 1][0], s.points[i][1] - s.points[i - 1][1]);
    }
  }
  return length;
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  if (strokes.length === 0) { generation += 1; clearPad(); showNothing(); }  // after a picture
  stroke = {width: Number(document.getElementById("pen").value), points: [point(event)]};
  strokes.push(stroke);
  pointer = event.pointerId;
  pad.setPointerCapture(pointer);
  drawStroke(stroke);
});
pad.addEventListener("pointermove", (event) => {
  if (stroke === null || event.pointerId !== pointer) return;
  const next = point(event);
  const last = stroke.points[stroke.points.length - 1];
  stroke.points.push(next);
  drawStroke({width: stroke.width, points: [last, next]});
  requestReading();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, (event) => {
    if (stroke === null || event.pointerId !== pointer) return;
    stroke = null;
    pointer = null;
    requestReading();
  });
}

function undo() {
  if (stroke !== null || strokes.length === 0) return;
  strokes.pop();
  generation += 1;
  redraw();
  if (ink() < MIN_INK) showNothing(); else requestReading();
}

document.getElementById("clear").addEventListener("click", reset);
document.getElementById("undo").addEventListener("click", undo);
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea")) return;  // typing there is not a command
  const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
  if (event.key === "Escape" || (plain && (event.key === "c" || event.key === "C"))) {
    event.preventDefault();
    reset();
  } else if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  }
});

// At most one request in flight; the latest drawing is sent when it returns.
function requestReading() {
  if (ink() < MIN_INK) return;
  const request = {url: "/api/predict", body: JSON.stringify({image: pad.toDataURL("image/png")}),
                   type: "application/json", drawing: stroke !== null};
  send(request);
}

function send(request) {
  if (inFlight) { pending = request; return; }
  inFlight = true;
  pending = null;
  const sent = generation;
  document.body.dataset.busy = "1";  // lets tests (and styles) know a reading is on its way
  const lang = encodeURIComponent(document.documentElement.lang || "");
  fetch(`${request.url}?lang=${lang}`, {
    method: "POST", headers: {"Content-Type": request.type}, body: request.body,
  }).then((r) => r.json().then((body) => ({ok: r.ok, body})))
    .then(({ok, body}) => {
      if (sent !== generation) return;  // cleared or undone while the request was out
      if (ok) show(body, request.drawing);
      else if (!request.drawing) sayError(body.error);  // mid-stroke, a drawing is unfinished
    })
    .catch((error) => { if (sent === generation) sayError(`${t("The server did not answer:")} ${error}`); })
    .finally(() => {
      inFlight = false;
      if (pending) send(pending); else document.body.dataset.busy = "0";
    });
}

function sayError(message) {
  showNothing();
  answer.textContent = message;
  answer.dataset.kind = "error";
}

function show(reading, unfinished) {
  // an unfinished stroke that is no digit yet: say nothing rather than "no digit"
  if (!reading.digit && unfinished) return;
  result = reading;
  const best = reading.top[0];
  const percent = (p) => `${(100 * p).toFixed(1)}%`;
  // textContent throughout: the reason and the class names are plain text, never HTML
  if (!reading.digit) {
    answer.textContent = `${t("No digit found:")} ${reading.reason}`;
  } else if (reading.unsure) {
    const [first, second] = reading.top;
    answer.textContent = `${t("Unsure:")} ${first.label} ${percent(first.probability)} ${t("or")} ${second.label} ${percent(second.probability)}`;
  } else {
    answer.textContent = `${best.label} · ${percent(best.probability)}`;
  }
  answer.dataset.kind = !reading.digit ? "no-digit" : reading.unsure ? "unsure" : "digit";
  answer.dataset.label = reading.digit ? best.label : "";
  answer.dataset.probability = reading.digit ? best.probability.toFixed(4) : "";
  renderBars(reading);
  paintGrey(document.getElementById("seen"), reading.input);
  if (reading.hidden.length) paintHidden(document.getElementById("hidden"), reading.hidden);
  else clearCanvas(document.getElementById("hidden"));
  const maps = reading.feature_maps || [];
  document.getElementById("maps-part").hidden = maps.length === 0;
  if (maps.length) paintMaps(document.getElementById("maps"), maps);
  fillClassChoice(reading);
  paintWhy();
}

// Built from elements and text nodes, never HTML: class names come from the model file, and
// a file from anywhere may name a class `<img src=x onerror=...>`.
function renderBars(reading) {
  bars.replaceChildren();
  const n = reading ? reading.classes.length : 10;
  for (let i = 0; i < n; i++) {
    const name = reading ? String(reading.classes[i]) : String(i);
    const shown = `${(100 * (reading ? reading.probabilities[i] : 0)).toFixed(1)}%`;
    const item = document.createElement("li");
    if (reading && reading.digit && name === reading.top[0].label) item.className = "top";
    const fill = document.createElement("span");
    fill.style.width = shown;  // a CSSOM property, which the Content-Security-Policy allows
    const choose = document.createElement("button");
    choose.type = "button";
    choose.className = "class-name";
    choose.textContent = name;
    choose.disabled = !(reading && reading.saliency.length);
    choose.addEventListener("click", () => { chosenClass = i; whyClass.value = String(i); paintWhy(); });
    item.append(choose, textSpan("", "bar", fill), textSpan(shown, "value"));
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

function fillClassChoice(reading) {
  whyClass.replaceChildren();
  if (!reading.saliency.length) return;
  reading.classes.forEach((name, i) => {
    const option = document.createElement("option");
    option.value = String(i);
    option.textContent = String(name);
    whyClass.appendChild(option);
  });
  const top = reading.classes.indexOf(reading.top[0].label);
  whyClass.value = String(chosenClass === null ? top : chosenClass);
}

whyClass.addEventListener("change", () => { chosenClass = Number(whyClass.value); paintWhy(); });

// The chosen class's saliency over a dim copy of the input: red where more ink would raise the
// class's score, blue where it would lower it, each at its strength (the map is scaled to ±1).
function paintWhy() {
  const canvas = document.getElementById("why");
  if (!result || !result.saliency.length) { clearCanvas(canvas); canvas.dataset.class = ""; return; }
  const k = Number(whyClass.value);
  const map = result.saliency[k].flat();
  const seen = result.input.flat();
  const g = canvas.getContext("2d");
  const image = g.createImageData(28, 28);
  map.forEach((s, i) => {
    const base = 70 * seen[i];
    const red = Math.max(0, s), blue = Math.max(0, -s);
    image.data.set([base + (255 - base) * red, base * (1 - red - blue) + 40 * blue,
                    base + (255 - base) * blue, 255].map(Math.round), 4 * i);
  });
  g.putImageData(image, 0, 0);
  canvas.dataset.class = String(result.classes[k]);
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

// -- a picture opened or dropped: sent as it is, read as `digitlab predict` reads a photo -------

const PICTURE_TYPES = ["image/png", "image/jpeg"];

function openPicture(file) {
  if (!file) return;
  if (!PICTURE_TYPES.includes(file.type)) { sayError(t("Choose a PNG or JPEG picture.")); return; }
  reset();
  const url = URL.createObjectURL(file);
  const shown = new Image();
  shown.onload = () => {  // the picture on the pad, whole and centred, as the reader chose it
    const scale = Math.min(pad.width / shown.width, pad.height / shown.height);
    const w = shown.width * scale, h = shown.height * scale;
    ctx.drawImage(shown, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    URL.revokeObjectURL(url);
  };
  shown.src = url;
  send({url: "/api/predict/picture", body: file, type: file.type, drawing: false});
}

document.getElementById("picture").addEventListener("change", (event) => {
  openPicture(event.target.files[0]);
  event.target.value = "";  // the same file again is a new choice
});
pad.addEventListener("dragover", (event) => { event.preventDefault(); pad.classList.add("dropping"); });
pad.addEventListener("dragleave", () => pad.classList.remove("dropping"));
pad.addEventListener("drop", (event) => {
  event.preventDefault();
  pad.classList.remove("dropping");
  openPicture(event.dataTransfer.files[0]);
});

reset();
