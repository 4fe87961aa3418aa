"use strict";
(function () {
  var grid = document.getElementById("tiles");
  var status = document.getElementById("status");
  var SVG = "http://www.w3.org/2000/svg";
  var tiles = new Map();

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function rate(x) { return x >= 10 ? x.toFixed(0) + "/s" : x.toFixed(1) + "/s"; }
  function pct(x) { return (x > 0 && x < 0.1 ? (x * 100).toFixed(1) : (x * 100).toFixed(0)) + "%"; }
  function dur(ns) {
    if (!ns) return "\u2013";
    var ms = ns / 1e6;
    if (ms < 1) return (ms * 1000).toFixed(0) + " \u00b5s";
    if (ms < 1000) return ms.toFixed(ms < 10 ? 1 : 0) + " ms";
    return (ms / 1000).toFixed(1) + " s";
  }
  function stat(dl, label) {
    var d = el("div");
    d.appendChild(el("dt", "", label));
    var v = el("dd", "", "\u2013");
    d.appendChild(v);
    dl.appendChild(d);
    return { box: d, value: v };
  }

  function make(p) {
    var t = { root: el("article", "tile") };
    t.root.dataset.policy = p.policy;
    t.root.dataset.name = p.name;
    var head = el("div", "head");
    var titles = el("div");
    titles.appendChild(el("h2", "", p.name || "(no name)"));
    titles.appendChild(el("div", "kind", p.other ? "names past the bound" : p.policy));
    head.appendChild(titles);
    t.state = el("span", "state");
    head.appendChild(t.state);
    t.root.appendChild(head);
    var dl = el("dl");
    t.rate = stat(dl, "requests");
    t.errors = stat(dl, "errors");
    t.rejected = stat(dl, "rejected");
    t.p50 = stat(dl, "p50");
    t.p99 = stat(dl, "p99");
    t.flight = stat(dl, "in flight / limit");
    t.root.appendChild(dl);
    t.svg = document.createElementNS(SVG, "svg");
    t.svg.setAttribute("class", "spark");
    t.svg.setAttribute("viewBox", "0 0 119 30");
    t.svg.setAttribute("preserveAspectRatio", "none");
    t.svg.setAttribute("role", "img");
    t.line = document.createElementNS(SVG, "polyline");
    t.svg.appendChild(t.line);
    t.root.appendChild(t.svg);
    t.sparkLabel = el("div", "spark-label");
    t.root.appendChild(t.sparkLabel);
    t.actions = el("div", "actions");
    t.root.appendChild(t.actions);
    t.msg = el("p", "msg");
    t.msg.setAttribute("role", "status");
    t.root.appendChild(t.msg);
    return t;
  }

  function button(t, name, action, label) {
    var b = el("button", "", label);
    b.type = "button";
    b.dataset.action = action;
    b.addEventListener("click", function () { act(t, name, action, b); });
    t.actions.appendChild(b);
  }

  function update(t, p, actions) {
    var state = p.state || "";
    t.root.dataset.state = state || "none";
    t.state.textContent = state;
    if (p.breaker && p.breaker.forced_open) t.state.textContent = "open (forced)";
    if (p.breaker && p.breaker.disabled) t.state.textContent = "closed (disabled)";
    t.rate.value.textContent = rate(p.request_rate);
    t.errors.value.textContent = pct(p.error_rate);
    t.rejected.value.textContent = pct(p.rejection_rate);
    t.p50.value.textContent = dur(p.p50_ns);
    t.p99.value.textContent = dur(p.p99_ns);
    var hasLimit = p.in_flight !== undefined || p.limit !== undefined;
    t.flight.box.hidden = !hasLimit;
    if (hasLimit) {
      t.flight.value.textContent = (p.in_flight !== undefined ? p.in_flight : "\u2013") + " / " + (p.limit !== undefined ? p.limit : "\u2013");
    }
    var h = p.history || [], max = 1, peak = 0, pts = [];
    for (var i = 0; i < h.length; i++) { if (h[i] > peak) peak = h[i]; }
    max = Math.max(1, peak);
    for (i = 0; i < h.length; i++) { pts.push(i + "," + (29 - (h[i] / max) * 27).toFixed(1)); }
    t.line.setAttribute("points", pts.join(" "));
    t.svg.setAttribute("aria-label", "calls per second over the last two minutes, peak " + peak);
    t.sparkLabel.textContent = "last 2 min, peak " + peak + "/s";
    var want = actions && p.breaker ? "1" : "";
    if (t.root.dataset.actions !== want) {
      t.root.dataset.actions = want;
      t.actions.textContent = "";
      if (want) {
        button(t, p.name, "force-open", "Force open");
        button(t, p.name, "disable", "Disable");
        button(t, p.name, "reset", "Reset");
      }
    }
  }

  function render(snap) {
    var seen = new Set();
    (snap.policies || []).forEach(function (p, i) {
      var k = (p.other ? "\u0001" : p.policy) + "\u0000" + p.name;
      seen.add(k);
      var t = tiles.get(k);
      if (!t) { t = make(p); tiles.set(k, t); }
      update(t, p, snap.actions);
      if (grid.children[i] !== t.root) grid.insertBefore(t.root, grid.children[i] || null);
    });
    tiles.forEach(function (t, k) {
      if (!seen.has(k)) { t.root.remove(); tiles.delete(k); }
    });
    document.getElementById("empty").hidden = tiles.size > 0;
  }

  function act(t, name, action, b) {
    b.disabled = true;
    t.msg.textContent = "";
    fetch("action", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: name, action: action })
    }).then(function (r) {
      if (!r.ok) return r.text().then(function (s) { throw new Error(r.status + " " + s.trim()); });
      return fetch("snapshot.json").then(function (r) { return r.json(); }).then(render);
    }).catch(function (e) {
      t.msg.textContent = action + " failed: " + e.message;
    }).finally(function () { b.disabled = false; });
  }

  render(JSON.parse(document.getElementById("initial").textContent));
  var es = new EventSource("events");
  es.onmessage = function (m) {
    render(JSON.parse(m.data));
    status.dataset.live = "1";
    status.textContent = "live";
  };
  es.onerror = function () {
    status.dataset.live = "";
    status.textContent = "reconnecting\u2026";
  };
})();
