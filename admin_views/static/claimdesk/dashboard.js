// The Dashboard's charts (admin_views/templates/claimdesk/dashboard.html), drawn with the vendored Chart.js from
// the JSON block #cd-dashboard-data. No inline script: the page's CSP allows only files from this site. Each bar
// opens the list it counts (the same links as the tables under the charts).
(function () {
  "use strict";

  var money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  var BLUE = "#2c7be5", GREEN = "#00a65a", ORANGE = "#f39c12", RED = "#e74c3c";

  function numbers(values) { return values.map(function (v) { return Number(v); }); }

  function opener(links) {
    return function (event, elements) {
      if (elements.length && links && links[elements[0].index]) { window.location.href = links[elements[0].index]; }
    };
  }

  function tick(kind) {
    return function (value) {
      if (kind === "money") { return money.format(value); }
      if (kind === "percent") { return value + "%"; }
      return value;
    };
  }

  function bar(canvas, spec, color, options) {
    var kind = spec.percent ? "percent" : (spec.money ? "money" : "count");
    return new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: [{ data: numbers(spec.values), backgroundColor: color }] },
      options: Object.assign({
        maintainAspectRatio: false,
        animation: false,
        onClick: opener(spec.links),
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (c) { return tick(kind)(c.parsed[options && options.indexAxis === "y" ? "x" : "y"]); } } }
        },
        scales: { y: { beginAtZero: true, ticks: { callback: tick(options && options.indexAxis === "y" ? "count" : kind) } } }
      }, options || {})
    });
  }

  function months(canvas, spec) {
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: [
          { label: "Charges", data: numbers(spec.charges), backgroundColor: BLUE },
          { label: "Collections", data: numbers(spec.collections), backgroundColor: GREEN }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        onClick: opener(spec.links),
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + money.format(c.parsed.y); } } } },
        scales: { y: { beginAtZero: true, ticks: { callback: tick("money") } } }
      }
    });
  }

  function draw() {
    var block = document.getElementById("cd-dashboard-data");
    if (!block || !window.Chart) { return; }
    var data = JSON.parse(block.textContent);
    var colors = { "ar-age": BLUE, "ar-payer": BLUE, status: ORANGE, denials: RED, carcs: ORANGE, rules: RED };
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var name = canvas.dataset.chart;
      var spec = data[name];
      if (!spec) { return; }
      if (name === "months") { months(canvas, spec); return; }
      var sideways = name === "ar-payer" || name === "denials" || name === "rules" || name === "carcs";
      bar(canvas, spec, colors[name] || BLUE, sideways ? {
        indexAxis: "y",
        scales: { x: { beginAtZero: true, ticks: { callback: tick(spec.percent ? "percent" : (spec.money ? "money" : "count")) } } }
      } : null);
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
}());
