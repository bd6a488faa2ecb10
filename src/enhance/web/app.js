// The page of `enhance serve`: it speaks only to this server's /api (no other origin).
"use strict";
const $ = (sel) => document.querySelector(sel);
const form = $("#job-form"), input = $("#files"), drop = $("#drop"), go = $("#go");
const jobs = new Map();  // id -> last state
let picked = [];

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k) e.append(k);
  return e;
}

function setFiles(list) {
  picked = Array.from(list);
  $("#drop-text").textContent = picked.length
    ? picked.map((f) => f.name).join(", ")
    : "Drop images here, or click to choose";
  go.disabled = picked.length === 0;
}

input.addEventListener("change", () => setFiles(input.files));
for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); setFiles(e.dataTransfer.files); });

fetch("/api/models").then((r) => r.json()).then((models) => {
  const sel = $("#model");
  sel.textContent = "";
  const seen = new Set();
  for (const m of models) {
    if (seen.has(m.name)) continue;
    seen.add(m.name);
    sel.append(el("option", { value: m.name, text: m.name, title: m.description }));
  }
  sel.value = "default";
}).catch(() => {});

form.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!picked.length) return;
  const data = new FormData();
  for (const f of picked) data.append("files", f, f.name);
  data.append("model", $("#model").value);
  const make = $("#make").value;
  if (make === "retina") data.append("densities", "1,2,3"); else data.append("zoom", make);
  data.append("type", $("#type").value);
  data.append("format", $("#format").value);
  $("#form-error").textContent = "";
  go.disabled = true;
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/jobs");
  xhr.upload.onprogress = (p) => { if (p.lengthComputable) go.textContent = `Uploading ${Math.round(100 * p.loaded / p.total)} %`; };
  xhr.onload = () => {
    go.textContent = "Enhance";
    go.disabled = false;
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (err) { body = { detail: xhr.statusText }; }
    if (xhr.status === 202) { jobs.set(body.id, null); poll(); }
    else $("#form-error").textContent = body.detail || `the server said ${xhr.status}`;
  };
  xhr.onerror = () => { go.textContent = "Enhance"; go.disabled = false; $("#form-error").textContent = "the server cannot be reached"; };
  xhr.send(data);
});

function render(job) {
  let card = document.getElementById(`job-${job.id}`);
  if (!card) {
    card = el("article", { class: "job", id: `job-${job.id}` });
    $("#jobs").prepend(card);
  }
  const o = job.options;
  const what = o.densities.length ? `retina set ${o.densities.map((d) => d + "x").join(", ")}` : `x${o.zoom}`;
  const del = el("button", { class: "quiet", type: "button", text: "Delete" });
  del.onclick = () => fetch(`/api/jobs/${job.id}`, { method: "DELETE" }).then(() => { jobs.delete(job.id); card.remove(); });
  const title = el("h2", {}, el("span", { text: `${job.files.length} file(s), ${what}, ${o.model}, ${o.type}` }),
    el("span", { class: "state", text: job.state }), job.zip ? el("a", { href: job.zip, text: "Download all (zip)" }) : null, del);
  const files = job.files.map((f) => {
    const row = el("div", { class: `file ${f.state}` }, el("span", { class: "name", text: f.name }),
      el("span", { class: "state", text: f.state === "done" ? `done in ${f.seconds} s` : f.state }));
    if (f.state === "running" && f.progress.total) {
      row.append(el("progress", { max: String(f.progress.total), value: String(f.progress.done) }));
    }
    if (f.error) row.append(el("div", { class: "error", text: f.error }));
    if (f.notes.length) row.append(el("ul", {}, ...f.notes.map((n) => el("li", { text: n }))));
    if (f.outputs.length) {
      row.append(el("div", {}, ...f.outputs.map((x) => el("a", { href: x.url, download: x.name, text: `${x.name} (${Math.round(x.bytes / 1024)} KB)` }))));
    }
    return row;
  });
  card.replaceChildren(title, ...files);
  if (job.report && job.state === "done") {  // the report's own slider, once every file is in
    card.append(el("iframe", { class: "report", title: "before and after", src: job.report }));
  }
}

let timer = null;
async function poll() {
  clearTimeout(timer);
  let busy = false;
  for (const [id, last] of jobs) {
    if (last && (last.state === "done" || last.state === "cancelled")) continue;
    try {
      const r = await fetch(`/api/jobs/${id}`);
      if (r.status === 404) { jobs.delete(id); continue; }
      const job = await r.json();
      const changed = JSON.stringify(job) !== JSON.stringify(last);
      jobs.set(id, job);
      if (changed) render(job);
      if (job.state === "queued" || job.state === "running") busy = true;
    } catch (err) { busy = true; }
  }
  if (busy) timer = setTimeout(poll, 600);
}
