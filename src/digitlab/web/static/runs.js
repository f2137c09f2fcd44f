// The runs page: the list of runs, and the curves of one, polled while it trains.
"use strict";
let chosen = null;

function percent(v) { return v == null ? "–" : (100 * v).toFixed(1) + "%"; }

function cell(content) {
  const td = document.createElement("td");
  td.append(content);
  return td;
}

async function refreshRuns() {
  const runs = await (await fetch("/api/runs")).json();
  const body = document.getElementById("runs");
  body.replaceChildren();
  if (runs.length === 0) body.appendChild(noRunsRow());
  for (const run of runs) {
    // built from elements, not HTML: a run's name is a folder name, and may hold any character
    const row = document.createElement("tr");
    row.dataset.run = run.name;
    const link = document.createElement("a");
    link.href = "#" + encodeURIComponent(run.name);
    link.textContent = run.name;
    const state = cell(t(run.state));
    state.className = `state-${run.state}`;
    if (run.problem) state.title = run.problem;  // why an unreadable run cannot be read
    const report = cell(run.report ? "" : "–");
    if (run.report) {
      const open = document.createElement("a");
      open.href = run.report;
      open.textContent = t("open");
      report.appendChild(open);
    }
    row.append(cell(link), state, cell(String(run.epochs)), cell(percent(run.train_acc)),
               cell(percent(run.test_acc)), report);
    body.appendChild(row);
  }
  if (!chosen && runs.length) chosen = decodeURIComponent(location.hash.slice(1)) || runs[0].name;
}

function noRunsRow() {
  const command = document.createElement("code");
  command.textContent = "digitlab train --out RUNS/NAME";
  const only = cell(t("No runs yet:"));
  only.colSpan = 6;
  only.append(" ", command);
  const row = document.createElement("tr");
  row.appendChild(only);
  return row;
}

async function refreshCurves() {
  if (!chosen) return;
  document.getElementById("chosen").textContent = chosen;
  const response = await fetch(`/api/runs/${encodeURIComponent(chosen)}/history`);
  if (!response.ok) return;
  const h = await response.json();
  plot(document.getElementById("loss"), [{values: h.loss || [], color: "#2f6fdf", label: t("Loss per step")}], null);
  plot(document.getElementById("accuracy"), [
    {values: h.train_acc || [], color: "#2f6fdf", label: t("train")},
    {values: h.test_acc || [], color: "#e07a10", label: t("test")},
  ], [0, 1]);
}

function plot(canvas, series, range) {
  const g = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, m = 36;
  g.clearRect(0, 0, w, h);
  const all = series.flatMap((s) => s.values);
  if (all.length === 0) { g.fillStyle = "#5b6475"; g.fillText(t("no data yet"), m, h / 2); return; }
  const [lo, hi] = range || [0, Math.max(...all) * 1.05 || 1];
  const n = Math.max(...series.map((s) => s.values.length));
  g.strokeStyle = "#ccd"; g.strokeRect(m, 8, w - m - 8, h - m);
  g.fillStyle = "#5b6475"; g.font = "12px system-ui";
  g.fillText(hi.toFixed(2), 2, 16); g.fillText(lo.toFixed(2), 2, h - m + 8);
  series.forEach((s, k) => {
    g.strokeStyle = s.color; g.lineWidth = 1.5; g.beginPath();
    s.values.forEach((v, i) => {
      const x = m + (w - m - 8) * (n === 1 ? 0.5 : i / (n - 1));
      const y = 8 + (h - m) * (1 - (v - lo) / (hi - lo || 1));
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
    g.fillStyle = s.color; g.fillText(s.label, w - 120, 24 + 16 * k);
  });
}

window.addEventListener("hashchange", () => { chosen = decodeURIComponent(location.hash.slice(1)); refreshCurves(); });
async function tick() {
  try { await refreshRuns(); await refreshCurves(); } catch (error) { /* server restarting: try again */ }
  setTimeout(tick, 2000);
}
textsReady.then(tick);
