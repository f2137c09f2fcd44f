// The runs page: the list of runs, and the curves of one run or of several side by side,
// polled while they train. Charts are Plotly.js's (served by digitlab, never from a CDN).
"use strict";
let chosen = null;             // the run whose curves are shown, when not comparing
const compared = new Set();    // the runs ticked for comparison
let latestRuns = [];           // the list as last fetched
let drawn = "";                // what the charts show now: redrawn only when it changes
const COLOURS = ["#2f6fdf", "#d35400", "#1a8a4a", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"];
//: the most points drawn of a loss curve: longer ones are averaged in buckets
const MAX_POINTS = 1500;

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
  const names = new Set(runs.map((run) => run.name));
  for (const name of [...compared]) if (!names.has(name)) compared.delete(name);
  for (const run of runs) body.appendChild(runRow(run));
  if (!chosen && runs.length) chosen = decodeURIComponent(location.hash.slice(1)) || runs[0].name;
  latestRuns = runs;
}

// built from elements, not HTML: a run's name is a folder name, and may hold any character
function runRow(run) {
  const row = document.createElement("tr");
  row.dataset.run = run.name;
  row.dataset.state = run.state;
  const tick = document.createElement("input");
  tick.type = "checkbox";
  tick.checked = compared.has(run.name);
  tick.setAttribute("aria-label", `${t("compare")} ${run.name}`);
  tick.addEventListener("change", () => {
    if (tick.checked) compared.add(run.name); else compared.delete(run.name);
    refreshCurves();
  });
  const link = document.createElement("a");
  link.href = "#" + encodeURIComponent(run.name);
  link.textContent = run.name;
  const state = cell(t(run.state));
  state.className = `state-${run.state}`;
  if (run.problem) state.title = run.problem;  // why an unreadable run cannot be read
  const report = cell(run.report ? "" : "–");
  if (run.report) {
    const open = document.createElement("a");
    open.href = run.report;  // the server encodes the name in it
    open.textContent = t("open");
    report.appendChild(open);
  }
  row.append(cell(tick), cell(link), state, cell(String(run.epochs)), cell(percent(run.train_acc)),
             cell(percent(run.test_acc)), report);
  return row;
}

function noRunsRow() {
  const command = document.createElement("code");
  command.textContent = "digitlab train --out RUNS/NAME";
  const only = cell(t("No runs yet:"));
  only.colSpan = 7;
  only.append(" ", command);
  const row = document.createElement("tr");
  row.appendChild(only);
  return row;
}

async function history(name) {
  const response = await fetch(`/api/runs/${encodeURIComponent(name)}/history`);
  return response.ok ? response.json() : null;
}

async function refreshCurves() {
  const comparing = compared.size >= 2;
  const names = comparing ? [...compared].sort() : chosen ? [chosen] : [];
  document.getElementById("chosen").textContent = names.length ? names.join(" · ") : "—";
  const histories = await Promise.all(names.map(history));
  const shown = JSON.stringify([names, histories, document.documentElement.lang]);
  if (shown === drawn) return;  // unchanged: a redraw would only end the reader's hover
  drawn = shown;
  const loss = [], accuracy = [];
  names.forEach((name, k) => {
    const h = histories[k];
    if (!h) return;
    const colour = COLOURS[k % COLOURS.length];
    const label = (what) => comparing ? `${name} · ${what}` : what;
    loss.push(line(lossCurve(h), label(t("loss")), colour, "solid"));
    const epochs = (h.train_acc || []).map((_, i) => i + 1);
    accuracy.push(line([epochs, h.train_acc || []], label(t("train")), comparing ? colour : COLOURS[0], comparing ? "dot" : "solid"));
    accuracy.push(line([epochs, h.test_acc || []], label(t("test")), comparing ? colour : COLOURS[1], "solid"));
  });
  plot("loss", loss, t("epoch"), t("loss"), null, "tozero");
  plot("accuracy", accuracy, t("epoch"), t("accuracy"), ".1%", "normal");
  showSettings(comparing ? names : []);
}

// The loss per step, placed at its epoch (step / steps per epoch), averaged down to MAX_POINTS.
function lossCurve(h) {
  const values = h.loss || [];
  const perEpoch = h.steps_per_epoch || values.length || 1;
  const bucket = Math.max(1, Math.ceil(values.length / MAX_POINTS));
  const x = [], y = [];
  for (let i = 0; i < values.length; i += bucket) {
    const part = values.slice(i, i + bucket).filter((v) => v != null);
    if (!part.length) continue;
    x.push((i + part.length) / perEpoch);
    y.push(part.reduce((a, b) => a + b, 0) / part.length);
  }
  return [x, y];
}

function line([x, y], name, colour, dash) {
  // a point for a single epoch, lines with markers for a few, lines alone for many
  const mode = x.length === 1 ? "markers" : x.length > 60 ? "lines" : "lines+markers";
  return {x, y, name, type: "scatter", mode, marker: {size: 6, color: colour},
          line: {color: colour, dash, width: 2},
          hovertemplate: "%{y}<extra>%{fullData.name}</extra>"};
}

function plot(id, traces, xTitle, yTitle, tickformat, xRange) {
  const element = document.getElementById(id);
  const empty = traces.every((trace) => trace.x.length === 0);
  const epochs = Math.max(0, ...traces.map((trace) => Math.ceil(Math.max(0, ...trace.x))));
  const layout = {
    margin: {l: 64, r: 16, t: 36, b: 48},
    xaxis: {title: {text: xTitle}, dtick: epochs <= 20 ? 1 : undefined, rangemode: xRange, zeroline: false},
    yaxis: {title: {text: yTitle}, tickformat: tickformat || undefined, automargin: true},
    // above the plot, never over the lines
    legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom"},
    hovermode: "x unified",
    annotations: empty ? [{text: t("no data yet"), showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5}] : [],
    font: {family: "system-ui, sans-serif", size: 12, color: "#1d2330"},
  };
  Plotly.react(element, traces, layout, {responsive: true, displaylogo: false});
  element.dataset.points = String(traces.reduce((n, trace) => n + trace.x.length, 0));
}

// The compared runs' config.json side by side, one row per setting, differences highlighted.
function showSettings(names) {
  const part = document.getElementById("settings-part");
  part.hidden = names.length < 2;
  if (part.hidden) return;
  const configs = names.map((name) => (latestRuns.find((run) => run.name === name) || {}).config || {});
  const keys = [...new Set(configs.flatMap((config) => Object.keys(config)))].sort();
  const table = document.getElementById("settings");
  table.replaceChildren();
  const head = document.createElement("tr");
  head.appendChild(document.createElement("td"));
  for (const name of names) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = name;
    head.appendChild(th);
  }
  table.appendChild(head);
  for (const key of keys) {
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = key;
    row.appendChild(th);
    const values = configs.map((config) => key in config ? JSON.stringify(config[key]) : "–");
    const differs = new Set(values).size > 1;
    for (const value of values) {
      const td = cell(value);
      if (differs) td.className = "differs";
      row.appendChild(td);
    }
    row.dataset.setting = key;
    table.appendChild(row);
  }
}

window.addEventListener("hashchange", () => { chosen = decodeURIComponent(location.hash.slice(1)); refreshCurves(); });
async function tick() {
  try {
    await refreshRuns();
    await refreshCurves();
    document.body.dataset.ready = "1";  // lets tests know the page has drawn once
  } catch (error) { /* server restarting: try again */ }
  setTimeout(tick, 2000);
}
textsReady.then(tick);
