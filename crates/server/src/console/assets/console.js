// otsensor console: sends the console's changes to the REST API with the session's CSRF token,
// shows the API's field errors beside their fields (the typed values stay), shows and hides the
// fields that follow a choice, and polls a running run's progress. Plain JavaScript, no library.
"use strict";

function csrfToken() {
  const m = document.cookie.split(";").map(c => c.trim()).find(c => c.startsWith("otsensor_csrf="));
  return m ? decodeURIComponent(m.substring("otsensor_csrf=".length)) : "";
}

async function api(method, url, body) {
  const headers = { "X-CSRF-Token": csrfToken() };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (e) {
    return { ok: false, status: 0, json: { detail: "the sensor cannot be reached: " + e } };
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = { detail: text }; }
  return { ok: response.ok, status: response.status, json };
}

function flash(message) {
  const f = document.getElementById("flash");
  if (f) { f.textContent = message; f.hidden = false; } else { alert(message); }
}

// The error slot for an API field: `targets[2]` falls back to `targets`, `schedule.times[0]` to
// `schedule.times` then `schedule`, and anything else to the form's own slot.
function errorSlot(form, field) {
  let name = field || "form";
  while (name) {
    const slot = form.querySelector('[data-err="' + CSS.escape(name) + '"]');
    if (slot) return slot;
    if (/\[\d+\]$/.test(name)) name = name.replace(/\[\d+\]$/, "");
    else if (name.includes(".")) name = name.substring(0, name.lastIndexOf("."));
    else name = "";
  }
  return form.querySelector('[data-err="form"]');
}

function clearErrors(form) {
  form.querySelectorAll("[data-err]").forEach(e => { e.textContent = ""; });
  form.querySelectorAll(".invalid").forEach(e => e.classList.remove("invalid"));
}

function showError(form, json, status) {
  const detail = (json && json.detail) || ("the request failed (HTTP " + status + ")");
  const slot = errorSlot(form, json && json.field);
  if (slot) {
    slot.textContent = detail;
    const input = slot.parentElement && slot.parentElement.querySelector("input, select, textarea");
    if (input && slot.dataset.err !== "form") { input.classList.add("invalid"); input.focus(); }
  } else {
    flash(detail);
  }
}

// A number when the text is one, else the text as typed (the server names the field at fault).
function num(text) {
  const t = text.trim();
  if (t === "") return undefined;
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t;
}

function val(form, name) {
  const el = form.elements.namedItem(name);
  return el ? el.value : "";
}

function visible(el) {
  return !el.closest("[hidden]");
}

const builders = {
  // every named, visible field as text (checkboxes as booleans)
  fields(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || !visible(el)) continue;
      body[el.name] = el.type === "checkbox" ? el.checked : el.value;
    }
    return body;
  },
  // a scan definition as POST /api/scans takes it
  scan(form) {
    const kind = val(form, "kind");
    const useCase = { kind };
    if (kind === "plc") {
      useCase.protocol = val(form, "protocol");
      for (const k of ["port", "timeout_secs", "device_limit", "depth"]) {
        const v = num(val(form, k));
        if (v !== undefined) useCase[k] = v;
      }
    } else {
      useCase.vendor = val(form, "vendor");
      useCase.version = val(form, "version");
      const fields = useCase.version === "snmp-v3"
        ? ["user", "auth_proto", "auth_pass", "priv_proto", "priv_pass"] : ["community"];
      for (const k of fields) { if (val(form, k) !== "") useCase[k] = val(form, k); }
    }
    const targets = val(form, "targets").split(/[\n\r]+/).map(t => t.trim()).filter(t => t !== "");
    let schedule = null;
    const s = val(form, "schedule");
    if (s === "once") schedule = { kind: "once", at: val(form, "at") };
    if (s === "every") schedule = { kind: "every", every: num(val(form, "every")), unit: val(form, "unit"), start: val(form, "start") };
    if (s === "times_of_day") {
      schedule = { kind: "times_of_day", times: val(form, "times").split(",").map(t => t.trim()).filter(t => t !== "") };
    }
    return { name: val(form, "name"), use_case: useCase, targets, schedule, enabled: form.elements.namedItem("enabled").checked };
  },
};

function then(target, json) {
  if (!target) { location.reload(); return; }
  location.href = target.replace("{id}", json && json.id !== undefined ? json.id : "");
}

async function submitForm(form) {
  clearErrors(form);
  const body = builders[form.dataset.build || "fields"](form);
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  const r = await api(form.dataset.method || "POST", form.dataset.api, body);
  if (button) button.disabled = false;
  if (r.ok) then(form.dataset.then, r.json);
  else showError(form, r.json, r.status);
}

async function login(form) {
  clearErrors(form);
  const r = await api("POST", "/api/session", { name: val(form, "name"), password: val(form, "password") });
  if (r.ok) {
    location.href = r.json && r.json.user && r.json.user.must_change_password ? "/password" : (form.dataset.next || "/devices");
  } else {
    showError(form, r.json, r.status);
  }
}

async function call(button) {
  if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
  button.disabled = true;
  const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
  const r = await api(button.dataset.call, button.dataset.url, body);
  button.disabled = false;
  if (r.ok) then(button.dataset.then, r.json);
  else flash((r.json && r.json.detail) || ("the request failed (HTTP " + r.status + ")"));
}

// Shows an element marked data-show="name=a,b" only while the field `name` has one of the values.
function applyShows(form) {
  form.querySelectorAll("[data-show]").forEach(el => {
    const [name, values] = el.dataset.show.split("=");
    el.hidden = !values.split(",").includes(val(form, name));
  });
}

// The port field follows the protocol while the user has not typed a port of their own.
function followProtocol(form) {
  const port = form.elements.namedItem("port");
  const protocol = form.elements.namedItem("protocol");
  if (!port || !protocol || !port.dataset.ports) return;
  const defaults = Object.fromEntries(port.dataset.ports.split(",").map(p => p.split(":")));
  protocol.addEventListener("change", () => {
    if (Object.values(defaults).includes(port.value) || port.value === "") port.value = defaults[protocol.value] || "";
  });
}

function pollRun(el) {
  const id = el.dataset.run;
  const tick = async () => {
    const r = await api("GET", "/api/runs/" + encodeURIComponent(id));
    if (!r.ok) { setTimeout(tick, 2000); return; }
    if (r.json.status !== "running") { location.reload(); return; }
    const p = r.json.progress;
    const bar = document.getElementById("run-progress");
    const text = document.getElementById("run-progress-text");
    if (p && bar) { bar.max = Math.max(p.total, 1); bar.value = p.done; }
    if (p && text) text.textContent = p.done + " of " + p.total + " probed, " + p.identified + " identified, " + p.devices + " devices";
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  const loginForm = document.getElementById("login-form");
  if (loginForm) loginForm.addEventListener("submit", e => { e.preventDefault(); login(loginForm); });
  document.querySelectorAll("form[data-api]").forEach(form => {
    form.addEventListener("submit", e => { e.preventDefault(); submitForm(form); });
    form.addEventListener("change", () => applyShows(form));
    applyShows(form);
    followProtocol(form);
  });
  document.querySelectorAll("[data-call]").forEach(b => b.addEventListener("click", () => call(b)));
  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", async () => { await api("DELETE", "/api/session"); location.href = "/login"; });
  // errors of a server-rendered page (the inventory's filters) beside their field
  document.querySelectorAll(".server-err[data-for]").forEach(e => {
    const form = e.closest("main").querySelector("form");
    const slot = form && errorSlot(form, e.dataset.for);
    if (slot) { slot.textContent = e.textContent; e.remove(); }
  });
  const run = document.querySelector("[data-run][data-state=running]");
  if (run) pollRun(run);
});
