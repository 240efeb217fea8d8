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

  // one colour per segment id, the same in the map, the chart and the cards
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const colour = (sid) => sid < 0 ? "#999" : PALETTE[sid % PALETTE.length];
  const NS = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs, parent) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }
  function legend(box, entries) {
    box.replaceChildren();
    for (const e of entries) {
      const item = text("span", e.label);
      item.style.setProperty("--c", colour(e.segment_id));
      item.title = e.label;
      box.appendChild(item);
    }
  }
  let names = {};

  async function loadSegments() {
    const data = await api("/segments");
    const cards = el("cards");
    cards.replaceChildren();
    const top = Math.max(...data.segments.map((s) => s.share || 0), 0.0001);
    for (const s of data.segments) names[s.segment_id] = s.name;
    for (const s of data.segments) {
      const card = document.createElement("div");
      card.className = "card";
      card.dataset.segmentId = s.segment_id;
      const h = text("h2", s.name);
      const sw = text("span", "", "swatch");
      sw.style.background = colour(s.segment_id);
      h.prepend(sw);
      card.appendChild(h);
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
  async function loadMap() {
    const d = await api("/dashboard/map");
    const body = el("map-body");
    body.replaceChildren();
    if (!d.points.length) { body.textContent = "this model folder has no map"; return; }
    el("map-about").textContent = d.projection + " · " + d.points.length + " users, no ids";
    const W = 640, H = 440, L = 40, B = 40, T = 10, R = 10;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": "segment map" }, body);
    const xs = d.points.map((p) => p[0]), ys = d.points.map((p) => p[1]);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    const sx = (x) => L + (W - L - R) * (x - x0) / ((x1 - x0) || 1);
    const sy = (y) => H - B - (H - B - T) * (y - y0) / ((y1 - y0) || 1);
    svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#889" }, svg);
    svgEl("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#889" }, svg);
    svgEl("text", { x: (W + L) / 2, y: H - 12, "text-anchor": "middle" }, svg)
      .textContent = d.axes[0] || "x";
    svgEl("text", { x: 14, y: (H - B) / 2, "text-anchor": "middle",
      transform: `rotate(-90 14 ${(H - B) / 2})` }, svg).textContent = d.axes[1] || "y";
    const g = svgEl("g", { "class": "points" }, svg);
    for (const [x, y, sid] of d.points) {
      const c = svgEl("circle", { cx: sx(x).toFixed(1), cy: sy(y).toFixed(1), r: 2.6,
        fill: colour(sid), "fill-opacity": 0.55 }, g);
      c.dataset.segmentId = sid;
    }
    // each segment's name at the median of its points
    const bySeg = {};
    for (const [x, y, sid] of d.points) (bySeg[sid] = bySeg[sid] || []).push([x, y]);
    const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
    for (const [sid, pts] of Object.entries(bySeg)) {
      const mx = sx(median(pts.map((p) => p[0]))), my = sy(median(pts.map((p) => p[1])));
      const label = svgEl("text", { x: mx.toFixed(1), y: my.toFixed(1), "text-anchor": "middle",
        "font-weight": "600", stroke: "#fff", "stroke-width": 3, "paint-order": "stroke" }, svg);
      label.textContent = sid;
    }
    legend(el("map-legend"), d.segments.map((s) => ({ segment_id: s.segment_id,
      label: s.segment_id + " · " + s.name })));
  }
  async function loadSizes() {
    const d = await api("/dashboard/sizes");
    const body = el("sizes-body");
    if (!d.rows.length) { body.textContent = "no assignments stored yet"; return; }
    body.replaceChildren();
    const buckets = [...new Set(d.rows.map((r) => r.at))].sort((a, b) => a - b).slice(-24);
    const segs = [...new Set(d.rows.map((r) => r.segment_id))].sort((a, b) => a - b);
    const count = {};
    for (const r of d.rows) count[r.at + ":" + r.segment_id] = r.count;
    const totals = buckets.map((b) => segs.reduce((n, s) => n + (count[b + ":" + s] || 0), 0));
    const top = Math.max(...totals, 1);
    const W = 480, H = 300, L = 44, B = 46, T = 10, R = 10;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": "assignments per hour by segment" }, body);
    const bw = Math.min((W - L - R) / buckets.length, 40);
    buckets.forEach((b, i) => {
      let y = H - B;
      for (const s of segs) {
        const n = count[b + ":" + s] || 0;
        if (!n) continue;
        const h = (H - B - T) * n / top;
        y -= h;
        const rect = svgEl("rect", { x: (L + i * bw + 1).toFixed(1), y: y.toFixed(1),
          width: Math.max(bw - 2, 1).toFixed(1), height: h.toFixed(1), fill: colour(s) }, svg);
        svgEl("title", {}, rect).textContent = `segment ${s}: ${n}`;
      }
      if (i % Math.ceil(buckets.length / 6) === 0) {
        svgEl("text", { x: (L + i * bw + bw / 2).toFixed(1), y: H - B + 16,
          "text-anchor": "middle" }, svg).textContent = new Date(b * 1000).toISOString().slice(5, 13) + "h";
      }
    });
    svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#889" }, svg);
    svgEl("text", { x: L - 6, y: T + 10, "text-anchor": "end" }, svg).textContent = top;
    svgEl("text", { x: L - 6, y: H - B, "text-anchor": "end" }, svg).textContent = "0";
    svgEl("text", { x: (W + L) / 2, y: H - 8, "text-anchor": "middle" }, svg)
      .textContent = "hour (UTC)";
    legend(el("sizes-legend"), segs.map((s) => ({ segment_id: s,
      label: s + " · " + (names[s] || (s < 0 ? "no segment" : "segment " + s)) })));
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
      Promise.all([loadSizes(), loadDrift()]).catch(showError);
    } catch (err) { out.appendChild(text("p", String(err.message || err))); }
  }
  el("assign-go").addEventListener("click", assign);
  loadSegments().then(() => Promise.all([loadMap(), loadDrift(), loadSizes()]))
    .catch(showError);
})();
