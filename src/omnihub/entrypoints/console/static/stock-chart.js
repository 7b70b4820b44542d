/* The SKU page's stock over time, drawn with uPlot (vendor/uPlot-1.6.32) from the figures
   the page carries in <script type="application/json" id="stock-data">: on hand, reserved
   and available at the end of each period, as steps (a level holds until the next
   movement). No inline script or style: the page's CSP allows neither. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("stock-data");
    var holder = document.getElementById("stock-chart");
    if (!source || !holder || typeof window.uPlot !== "function") {
      return;
    }
    var d = JSON.parse(source.textContent);
    var steps = window.uPlot.paths.stepped({ align: 1 });
    var line = function (label, colour, dash) {
      return { label: label, stroke: colour, width: 2, paths: steps, dash: dash, value: function (u, v) {
        return v == null ? "" : String(v);
      } };
    };
    var width = function () { return Math.max(280, holder.clientWidth || 640); };
    var chart = new window.uPlot({
      width: width(),
      height: 280,
      series: [
        {},
        line("On hand", "#1f4e8c"),
        line("Reserved", "#a64d00", [6, 3]),
        line("Available", "#1b6e2f"),
      ],
      axes: [{}, { label: "units" }],
      scales: { x: { time: true } },
      legend: { live: true },
    }, [d.t, d.on_hand, d.reserved, d.available], holder);
    holder.setAttribute("data-drawn", String(d.t.length));
    window.addEventListener("resize", function () {
      chart.setSize({ width: width(), height: 280 });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
