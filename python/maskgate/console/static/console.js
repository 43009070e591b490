// maskgate audit console: live activity rows and the four charts.
// Served from the package (no CDN); builds DOM nodes with textContent only, never HTML strings.
(function () {
  "use strict";
  var base = document.body.getAttribute("data-base") || "/console";
  var ACTIVITY_MS = 2000;
  var SERIES_MS = 5000;
  var live = document.getElementById("live");

  function getJSON(path) {
    return fetch(base + path, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 401) { window.location.assign(base + "/login"); throw new Error("logged out"); }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }

  function setLive(ok) {
    if (!live) { return; }
    live.textContent = ok ? "live" : "reconnecting";
    live.className = ok ? "live" : "live stale";
  }

  function counts(obj) {
    var parts = [];
    Object.keys(obj || {}).sort().forEach(function (k) { parts.push(k + " \u00d7" + obj[k]); });
    return parts.join(", ");
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }

  // -- live activity ------------------------------------------------------------------------
  var rows = document.getElementById("activity-rows");
  if (rows) {
    var after = parseInt(rows.getAttribute("data-after") || "0", 10) || 0;
    var pollActivity = function () {
      getJSON("/api/activity?after=" + after).then(function (data) {
        setLive(true);
        var fresh = data.rows || [];
        for (var i = fresh.length - 1; i >= 0; i--) {
          var r = fresh[i];
          var tr = document.createElement("tr");
          tr.className = "fresh";
          tr.setAttribute("data-seq", String(r.seq));
          cell(tr, r.time);
          cell(tr, r.tenant || "\u2014");
          cell(tr, r.model || "\u2014");
          cell(tr, r.route);
          var bad = r.status >= 400 || (r.stream && r.stream !== "ok");
          cell(tr, String(r.status) + (r.stream && r.stream !== "ok" ? " " + r.stream : ""), bad ? "bad" : "ok");
          cell(tr, Math.round(r.ms) + " ms", "num");
          cell(tr, r.mask_ms === null ? "\u2014" : r.mask_ms.toFixed(2) + " ms", "num");
          cell(tr, counts(r.masked));
          cell(tr, counts(r.restored));
          var td = cell(tr, "");
          if (r.capture) {
            var a = document.createElement("a");
            a.href = base + "/captures/" + encodeURIComponent(r.capture);
            a.textContent = "open";
            td.appendChild(a);
          }
          rows.insertBefore(tr, rows.firstChild);
          after = Math.max(after, r.seq);
        }
        while (rows.children.length > 200) { rows.removeChild(rows.lastChild); }
        var empty = document.getElementById("activity-empty");
        if (empty && rows.children.length) { empty.remove(); }
      }).catch(function () { setLive(false); });
    };
    window.setInterval(pollActivity, ACTIVITY_MS);
    pollActivity();
  }

  // -- charts --------------------------------------------------------------------------------
  var charts = document.getElementById("charts");
  if (!charts || typeof window.uPlot === "undefined") { return; }
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  var plots = {};

  function width(el) { return Math.max(300, el.clientWidth - 4); }

  function draw(id, names, columns) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var key = names.join("|");
    var data = [columns[0]].concat(columns.slice(1));
    var plot = plots[id];
    if (plot && plot.key === key) { plot.chart.setData(data); return; }
    if (plot) { plot.chart.destroy(); }
    var series = [{}].concat(names.map(function (n, i) {
      return { label: n, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false, points: { show: columns[0].length < 3 } };
    }));
    var opts = { width: width(el), height: 200, series: series, scales: { x: { time: true } }, axes: [{}, { size: 50 }], legend: { live: false } };
    plots[id] = { key: key, chart: new window.uPlot(opts, data, el) };
  }

  function pollSeries() {
    getJSON("/api/series").then(function (s) {
      var t = s.t || [];
      var kinds = Object.keys(s.masked || {}).sort();
      if (!kinds.length) { kinds = ["(none yet)"]; s.masked = { "(none yet)": t.map(function () { return 0; }) }; }
      draw("chart-masked", kinds, [t].concat(kinds.map(function (k) { return s.masked[k]; })));
      draw("chart-latency", ["p50", "p95", "p99"], [t, s.p50_ms, s.p95_ms, s.p99_ms]);
      draw("chart-errors", ["4xx %", "5xx %"], [t, s.client_error_pct, s.server_error_pct]);
      draw("chart-streams", ["open streams"], [t, s.open_streams]);
    }).catch(function () { setLive(false); });
  }
  window.addEventListener("resize", function () {
    Object.keys(plots).forEach(function (id) {
      var el = document.getElementById(id);
      plots[id].chart.setSize({ width: width(el), height: 200 });
    });
  });
  window.setInterval(pollSeries, SERIES_MS);
  pollSeries();
})();
