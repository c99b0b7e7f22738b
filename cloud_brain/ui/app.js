// The approver's page: the queue of pending recipe versions with their predicted films,
// approve or reject each; the decided ones below. Talks to the cloud's JSON API with the
// user's bearer token (kept for this browser tab only).
"use strict";

const state = { token: sessionStorage.getItem("coatshare-token") || "" };
const $ = (sel) => document.querySelector(sel);

function say(text, kind = "ok") {
  const el = $("#message");
  el.textContent = text;
  el.className = kind;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${state.token}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) {
    let reason = `${res.status}`;
    try {
      const err = (await res.json()).error;
      reason = `${err.field}: ${err.reason}`;
    } catch (_) { /* not JSON */ }
    throw new Error(reason);
  }
  return res;
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

const pct = (v) => (v == null ? "" : `${Number(v).toFixed(1)} %`);
const when = (iso) => (iso ? iso.replace("T", " ").slice(0, 16) : "");

async function filmImage(v) {
  const res = await api("GET", `/recipes/${encodeURIComponent(v.recipe_id)}/versions/${v.version}/heatmap.png`);
  const img = document.createElement("img");
  img.className = "film";
  img.alt = `predicted film of ${v.recipe_id} v${v.version}`;
  img.src = URL.createObjectURL(await res.blob());
  img.addEventListener("click", () => {
    $("#zoom img").src = img.src;
    $("#zoom").showModal();
  });
  return img;
}

async function decide(v, action, reason) {
  const path = `/recipes/${encodeURIComponent(v.recipe_id)}/versions/${v.version}/${action}`;
  try {
    await api("POST", path, action === "reject" ? { reason } : undefined);
    say(`${v.recipe_id} v${v.version} ${action === "approve" ? "approved and signed" : "rejected"}`);
  } catch (e) {
    say(`${v.recipe_id} v${v.version}: ${e.message}`, "error");
  }
  await load();
}

function pendingRow(body, v) {
  const row = body.insertRow();
  row.dataset.recipe = `${v.recipe_id}/${v.version}`;
  const m = v.metrics || {};
  cell(row, `${v.recipe_id} v${v.version}`);
  cell(row, v.part);
  cell(row, v.finish);
  cell(row, pct(m.within_tol_pct), "num");
  cell(row, m.paint_ml == null ? "" : `${Number(m.paint_ml).toFixed(1)} ml`, "num");
  cell(row, m.cycle_s == null ? "" : `${Number(m.cycle_s).toFixed(1)} s`, "num");
  cell(row, `${v.submitted_by}, ${when(v.submitted_at)}`);
  const film = cell(row, "");
  filmImage(v).then((img) => film.append(img)).catch((e) => { film.textContent = e.message; });
  const act = cell(row, "");
  const approve = document.createElement("button");
  approve.className = "approve";
  approve.textContent = "Approve";
  approve.addEventListener("click", () => decide(v, "approve"));
  const reason = document.createElement("input");
  reason.className = "reason";
  reason.placeholder = "why reject";
  const reject = document.createElement("button");
  reject.className = "reject";
  reject.textContent = "Reject";
  reject.addEventListener("click", () => decide(v, "reject", reason.value));
  act.append(approve, " ", reason, " ", reject);
}

function decidedRow(body, v) {
  const row = body.insertRow();
  row.dataset.recipe = `${v.recipe_id}/${v.version}`;
  cell(row, `${v.recipe_id} v${v.version}`);
  cell(row, v.part);
  cell(row, v.finish);
  cell(row, v.status, `status-${v.status}`);
  cell(row, v.decided_by);
  cell(row, when(v.decided_at));
  cell(row, v.key_id);
  cell(row, v.reason);
}

async function load() {
  if (!state.token) {
    say("Sign in with your token.", "error");
    return;
  }
  try {
    const versions = await (await api("GET", "/recipes")).json();
    const pending = versions.filter((v) => v.status === "pending");
    const decided = versions.filter((v) => v.status !== "pending").reverse();
    const qbody = $("#queue tbody");
    const dbody = $("#decided tbody");
    qbody.replaceChildren();
    dbody.replaceChildren();
    pending.forEach((v) => pendingRow(qbody, v));
    decided.forEach((v) => decidedRow(dbody, v));
    $("#count").textContent = `(${pending.length})`;
  } catch (e) {
    say(e.message, "error");
  }
}

$("#signin").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = $("#token").value.trim();
  sessionStorage.setItem("coatshare-token", state.token);
  say("");
  load();
});

load();
