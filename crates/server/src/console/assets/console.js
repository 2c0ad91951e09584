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

// ---- shared helpers for the pages whose data comes from the API ----

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === true) e.setAttribute(k, "");
    else if (v !== false && v !== undefined && v !== null) e.setAttribute(k, String(v));
  }
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

// A 501 from the API: this build lacks the feature; say so and hide the controls.
function unavailable(root, slotId, r) {
  if (r.status !== 501) return false;
  const slot = document.getElementById(slotId);
  slot.textContent = "Not available in this build: " + ((r.json && r.json.detail) || "the API answers 501");
  slot.hidden = false;
  root.querySelectorAll("form, button, table").forEach(e => { e.hidden = true; });
  return true;
}

// ---- Windows Endpoint Monitoring ----

function wemRow(tbody, range, admin) {
  const i = tbody.children.length;
  const tr = el("tr", { "data-range": i });
  const cell = (name, value, attrs) => {
    const td = el("td");
    const input = el("input", Object.assign({ name, value: value || "", disabled: !admin }, attrs || {}));
    td.append(input);
    tr.append(td);
  };
  cell("from", range.from, { size: 14 });
  cell("to", range.to, { size: 14 });
  cell("user", range.user, { size: 18 });
  cell("password", "", { type: "password", autocomplete: "off", placeholder: range.password_set ? "(stored)" : "" });
  const td = el("td");
  td.append(el("input", { type: "checkbox", name: "disabled", checked: !!range.disabled, disabled: !admin }));
  tr.append(td);
  const last = el("td");
  if (admin) {
    const remove = el("button", { type: "button", class: "danger" }, "Remove");
    remove.addEventListener("click", () => tr.remove());
    last.append(remove);
  }
  last.append(el("span", { class: "err", "data-err": "ranges[" + i + "]" }));
  tr.append(last);
  tbody.append(tr);
}

function wemTimeInput(box, value) {
  const label = el("label", { class: "field" });
  label.append(el("span", {}, "Scan time"), el("input", { name: "time", value: value || "", placeholder: "HH:MM" }));
  box.append(label);
}

async function wemLoad(root) {
  const admin = root.dataset.admin === "true";
  const r = await api("GET", "/api/wem/ranges");
  if (unavailable(root, "wem-unavailable", r)) return;
  const tbody = document.getElementById("wem-rows");
  tbody.textContent = "";
  if (r.ok) r.json.forEach(range => wemRow(tbody, range, admin));
  const s = await api("GET", "/api/wem/schedule");
  const form = document.getElementById("wem-schedule");
  const times = document.getElementById("wem-times");
  times.textContent = "";
  if (s.ok) {
    const text = s.json.schedule || "manual";
    const every = /^every\s+(\d+)\s*h/.exec(text);
    if (text === "manual") form.elements.namedItem("mode").value = "manual";
    else if (every) { form.elements.namedItem("mode").value = "every"; form.elements.namedItem("hours").value = every[1]; }
    else { form.elements.namedItem("mode").value = "times"; text.split(",").forEach(t => wemTimeInput(times, t.trim())); }
    document.getElementById("wem-next").textContent = s.json.next_run ? "Next scan: " + s.json.next_run : "";
  }
  if (!times.children.length) wemTimeInput(times, "");
  if (!admin) form.querySelectorAll("input, select").forEach(e => { e.disabled = true; });
  applyShows(form);
  const status = await api("GET", "/api/wem");
  if (status.ok) document.getElementById("wem-status").textContent = JSON.stringify(status.json, null, 2);
}

function wemSetup(root) {
  const admin = root.dataset.admin === "true";
  const rangesForm = document.getElementById("wem-ranges");
  const tbody = document.getElementById("wem-rows");
  const add = document.getElementById("wem-add-range");
  if (add) add.addEventListener("click", () => wemRow(tbody, {}, admin));
  rangesForm.addEventListener("submit", async e => {
    e.preventDefault();
    clearErrors(rangesForm);
    const ranges = [...tbody.querySelectorAll("tr")].map(tr => {
      const v = n => tr.querySelector('[name="' + n + '"]');
      const range = { from: v("from").value, to: v("to").value, user: v("user").value, disabled: v("disabled").checked };
      if (v("password").value !== "") range.password = v("password").value;
      return range;
    });
    // the row error slots follow the rows' order now
    [...tbody.querySelectorAll("tr")].forEach((tr, i) => { tr.querySelector("[data-err]").dataset.err = "ranges[" + i + "]"; });
    const r = await api("PUT", "/api/wem/ranges", ranges);
    if (r.ok) wemLoad(root); else showError(rangesForm, r.json, r.status);
  });
  const importButton = document.getElementById("wem-import");
  if (importButton) importButton.addEventListener("click", async () => {
    const form = document.getElementById("wem-import-errors");
    clearErrors(form);
    const file = document.getElementById("wem-import-file").files[0];
    if (!file) { errorSlot(form, "csv").textContent = "choose a CSV file first"; return; }
    const r = await api("POST", "/api/wem/ranges/import", { csv: await file.text() });
    if (r.ok) wemLoad(root); else showError(form, r.json, r.status);
  });
  const schedule = document.getElementById("wem-schedule");
  schedule.addEventListener("change", () => applyShows(schedule));
  const addTime = document.getElementById("wem-add-time");
  if (addTime) addTime.addEventListener("click", () => wemTimeInput(document.getElementById("wem-times"), ""));
  schedule.addEventListener("submit", async e => {
    e.preventDefault();
    clearErrors(schedule);
    const mode = val(schedule, "mode");
    let text = "manual";
    if (mode === "every") text = "every " + val(schedule, "hours").trim() + "h";
    if (mode === "times") {
      text = [...schedule.querySelectorAll('input[name="time"]')].map(i => i.value.trim()).filter(t => t !== "").join(",");
    }
    const r = await api("PUT", "/api/wem/schedule", { schedule: text });
    if (r.ok) wemLoad(root); else showError(schedule, r.json, r.status);
  });
  wemLoad(root);
}

// ---- Reverse DNS ----

async function rdnsLoad(root) {
  const admin = root.dataset.admin === "true";
  const operator = root.dataset.operator === "true";
  const r = await api("GET", "/api/rdns/servers");
  if (unavailable(root, "rdns-unavailable", r)) return;
  const tbody = document.getElementById("rdns-rows");
  tbody.textContent = "";
  if (!r.ok) { flash((r.json && r.json.detail) || "cannot read the DNS servers"); return; }
  if (!r.json.length) {
    const tr = el("tr");
    tr.append(el("td", { class: "empty", colspan: 8 }, "no DNS servers yet"));
    tbody.append(tr);
  }
  for (const s of r.json) {
    const tr = el("tr", { "data-server": s.id });
    for (const v of [s.address, s.port, s.labels, (s.subnets || []).join(", "), s.schedule, s.enabled ? "yes" : "no", s.next_run || ""]) {
      tr.append(el("td", {}, v));
    }
    const actions = el("td");
    if (operator) {
      const test = el("button", { type: "button", class: "rdns-test" }, "Test");
      test.addEventListener("click", () => rdnsOpenTest(s));
      const run = el("button", { type: "button", class: "run" }, "Run now");
      run.addEventListener("click", async () => {
        const x = await api("POST", "/api/rdns/servers/" + s.id + "/run");
        if (x.ok) rdnsLoad(root); else flash((x.json && x.json.detail) || "cannot run");
      });
      actions.append(test, " ", run);
    }
    if (admin) {
      const del = el("button", { type: "button", class: "danger" }, "Delete");
      del.addEventListener("click", async () => {
        if (!confirm("Delete DNS server " + s.address + "?")) return;
        const x = await api("DELETE", "/api/rdns/servers/" + s.id);
        if (x.ok) rdnsLoad(root); else flash((x.json && x.json.detail) || "cannot delete");
      });
      actions.append(" ", del);
    }
    tr.append(actions);
    tbody.append(tr);
  }
}

function rdnsOpenTest(server) {
  const dialog = document.getElementById("rdns-test");
  const form = document.getElementById("rdns-test-form");
  clearErrors(form);
  form.elements.namedItem("server_id").value = server.id;
  document.getElementById("rdns-answer").textContent = "";
  dialog.showModal();
}

function rdnsSetup(root) {
  const form = document.getElementById("rdns-form");
  if (form) {
    form.addEventListener("change", () => applyShows(form));
    applyShows(form);
    form.addEventListener("submit", async e => {
      e.preventDefault();
      clearErrors(form);
      const mode = val(form, "mode");
      const body = {
        address: val(form, "address"),
        port: num(val(form, "port")),
        labels: num(val(form, "labels")),
        subnets: val(form, "subnets").split(/[\n\r]+/).map(t => t.trim()).filter(t => t !== ""),
        schedule: mode === "every" ? "every " + val(form, "hours").trim() + " hours" : val(form, "times"),
        enabled: form.elements.namedItem("enabled").checked,
      };
      const r = await api("POST", "/api/rdns/servers", body);
      if (r.ok) { form.reset(); applyShows(form); rdnsLoad(root); } else showError(form, r.json, r.status);
    });
  }
  const testForm = document.getElementById("rdns-test-form");
  if (testForm) {
    document.getElementById("rdns-test-close").addEventListener("click", () => document.getElementById("rdns-test").close());
    testForm.addEventListener("submit", async e => {
      e.preventDefault();
      clearErrors(testForm);
      const r = await api("POST", "/api/rdns/test", { server_id: Number(val(testForm, "server_id")), address: val(testForm, "address") });
      const answer = document.getElementById("rdns-answer");
      if (!r.ok) { answer.textContent = ""; showError(testForm, r.json, r.status); return; }
      const a = r.json;
      answer.textContent = a.ip + " on " + a.server + ": " + a.status +
        (a.name ? "\nhost name: " + a.name : "") + (a.fqdn ? "\nFQDN: " + a.fqdn : "") +
        (a.detail ? "\n" + a.detail : "") + "\n(" + a.elapsed_ms + " ms)";
    });
  }
  rdnsLoad(root);
}

document.addEventListener("DOMContentLoaded", () => {
  const wem = document.getElementById("wem");
  if (wem) wemSetup(wem);
  const rdns = document.getElementById("rdns");
  if (rdns) rdnsSetup(rdns);
});
