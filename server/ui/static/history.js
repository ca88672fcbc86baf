/* The project page's run history, redrawn with the vendored uPlot over the server-drawn SVG charts:
   one chart per metric, cursors kept in step across the charts (uPlot's cursor.sync), and a line
   above them naming the hovered run and every shown metric's value for it. The data come from
   the charts container's data-history attribute (JSON; no inline script under the CSP). Metric
   names are user data: they only ever reach the page as text (textContent, uPlot's legend). */
(function () {
  "use strict";

  const SYNC_KEY = "run-history";
  const HEIGHT = 180;

  function figure(metric, value) {
    if (value === null || value === undefined) return "—";
    return metric.outputType === "boolean" ? (value * 100).toFixed(0) + "%" : value.toFixed(2);
  }

  function tick(metric, value) {
    return metric.outputType === "boolean" ? (value * 100).toFixed(0) + "%" : String(+value.toFixed(2));
  }

  function readoutText(data, index) {
    const run = data.runs[index];
    const values = data.metrics.map((m) => m.name + " " + figure(m, m.values[index]));
    return "Run #" + run.id + " · " + run.createdAt + " · " + run.status + " — " + values.join(" · ");
  }

  function chartWidth(element) {
    const style = getComputedStyle(element);
    return Math.max(160, element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
  }

  function draw(element, metric, data, readout, runUrl) {
    const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#3b5bdb";
    const muted = getComputedStyle(document.documentElement).getPropertyValue("--muted").trim() || "#666";
    const xs = data.runs.map((_, index) => index);
    const options = {
      width: chartWidth(element),
      height: HEIGHT,
      cursor: { sync: { key: SYNC_KEY, setSeries: false }, drag: { x: false, y: false }, points: { size: 9 } },
      scales: { x: { time: false, range: [-0.5, Math.max(xs.length - 0.5, 0.5)] }, y: { range: metric.scale } },
      legend: { live: true },
      axes: [
        {
          stroke: muted,
          incrs: [1, 2, 5, 10, 20],
          values: (u, splits) => splits.map((i) => (Number.isInteger(i) && data.runs[i] ? "#" + data.runs[i].id : "")),
        },
        { stroke: muted, size: 54, values: (u, splits) => splits.map((v) => tick(metric, v)) },
      ],
      series: [
        { label: "Run", value: (u, i) => (i === null || !data.runs[i] ? "—" : "#" + data.runs[i].id) },
        {
          label: metric.name,
          stroke: accent,
          width: 2,
          spanGaps: true,
          points: { show: true, size: 7, fill: accent },
          value: (u, v) => figure(metric, v),
        },
      ],
      hooks: {
        setCursor: [
          (u) => {
            const index = u.cursor.idx;
            readout.hidden = index === null || index === undefined;
            if (!readout.hidden) readout.textContent = readoutText(data, index);
          },
        ],
      },
    };
    const plot = new uPlot(options, [xs, metric.values], element);
    plot.over.addEventListener("click", () => {
      const index = plot.cursor.idx;
      if (index !== null && index !== undefined) window.location.assign(runUrl + encodeURIComponent(data.runs[index].id));
    });
    return plot;
  }

  function start() {
    const container = document.querySelector(".charts[data-history]");
    if (!container || typeof uPlot === "undefined") return;
    const data = JSON.parse(container.dataset.history);
    const readout = document.querySelector(".history-readout");
    const byId = new Map(data.metrics.map((m) => [m.id, m]));
    const plots = [];
    container.querySelectorAll("figure.chart").forEach((element) => {
      const caption = element.querySelector("[data-metric-id]");
      const metric = caption && byId.get(caption.dataset.metricId);
      if (!metric) return;
      const holder = document.createElement("div");
      holder.className = "uplot-holder";
      element.appendChild(holder);
      element.classList.add("enhanced");
      plots.push([element, draw(holder, metric, data, readout, container.dataset.runUrl)]);
    });
    // Charts follow their figure's width (the grid reflows with the window).
    const resized = new ResizeObserver(() => {
      plots.forEach(([element, plot]) => plot.setSize({ width: chartWidth(element), height: HEIGHT }));
    });
    plots.forEach(([element]) => resized.observe(element));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
