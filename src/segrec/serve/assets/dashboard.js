"use strict";
(function () {
  const params = new URLSearchParams(window.location.search);
  if (params.get("key")) {
    sessionStorage.setItem("segrec_key", params.get("key"));
    params.delete("key");
    const rest = params.toString();
    history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }
  const key = sessionStorage.getItem("segrec_key") || "";
  const el = (id) => document.getElementById(id);
  const text = (tag, value, cls) => {
    const node = document.createElement(tag);
    node.textContent = value;
    if (cls) node.className = cls;
    return node;
  };
  async function api(path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    opts.headers["X-API-Key"] = key;
    if (opts.body) opts.headers["Content-Type"] = "application/json";
    const res = await fetch(path, opts);
    const body = await res.json();
    if (!res.ok) throw new Error(res.status + " " + (body.detail || res.statusText));
    return body;
  }
  function showError(err) { el("error").textContent = String(err.message || err); }

  async function loadSegments() {
    const data = await api("/segments");
    const cards = el("cards");
    cards.replaceChildren();
    const top = Math.max(...data.segments.map((s) => s.share || 0), 0.0001);
    for (const s of data.segments) {
      const card = document.createElement("div");
      card.className = "card";
      card.dataset.segmentId = s.segment_id;
      card.appendChild(text("h2", s.name));
      card.appendChild(text("div", "segment " + s.segment_id + " · " + (s.size || 0) +
        " users · " + Math.round((s.share || 0) * 100) + "%", "muted"));
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.style.width = Math.round(100 * (s.share || 0) / top) + "%";
      card.appendChild(bar);
      if (s.description) card.appendChild(text("p", s.description));
      for (const k of s.keywords) card.appendChild(text("span", k, "kw"));
      cards.appendChild(card);
    }
  }
  async function loadDrift() {
    const d = await api("/segments/drift");
    el("drift-verdict").textContent = d.verdict;
    el("drift-reasons").textContent = d.reasons.join("; ");
  }
  async function loadSizes() {
    const d = await api("/dashboard/sizes");
    const body = el("sizes-body");
    if (!d.rows.length) { body.textContent = "no assignments stored yet"; return; }
    body.replaceChildren();
    for (const r of d.rows) {
      body.appendChild(text("div", new Date(r.at * 1000).toISOString().slice(0, 13) +
        "h · segment " + r.segment_id + ": " + r.count));
    }
  }
  async function assign() {
    const review = el("assign-text").value.trim();
    const items = el("assign-items").value.split(",").map((s) => s.trim()).filter(Boolean);
    const payload = { k: 5, texts: review ? [review] : [],
      events: items.map((i) => ({ item_id: i })) };
    const out = el("assign-result");
    out.replaceChildren();
    try {
      const r = await api("/assign", { method: "POST", body: JSON.stringify(payload) });
      const a = r.assignment;
      out.appendChild(text("p", "Segment " + a.segment_id + ": " + a.segment +
        " (strength " + (a.strength == null ? "?" : a.strength.toFixed(2)) + ")"));
      out.appendChild(text("p", a.explanation, "muted"));
      const list = document.createElement("ol");
      for (const item of r.recommendations) {
        list.appendChild(text("li", (item.label || item.item_id) + " — " + (item.reason || "")));
      }
      out.appendChild(list);
    } catch (err) { out.appendChild(text("p", String(err.message || err))); }
  }
  el("assign-go").addEventListener("click", assign);
  Promise.all([loadSegments(), loadDrift(), loadSizes()]).catch(showError);
})();
