// Charts of the agreement page, drawn with the plotly.js that ships in the plotly package.
(function () {
  "use strict";
  const holder = document.getElementById("agreement-data");
  if (!holder || typeof Plotly === "undefined") return;
  const d = JSON.parse(holder.textContent);
  const config = { displaylogo: false, responsive: true };
  const layout = (title, extra) =>
    Object.assign({ title: { text: title, font: { size: 14 } }, margin: { t: 40, l: 50, r: 20, b: 60 } }, extra || {});

  Plotly.newPlot("chart-labels", [
    { type: "bar", name: "votes", x: d.choices, y: d.votes },
    { type: "bar", name: "majority vote", x: d.choices, y: d.majority },
    { type: "bar", name: "Dawid-Skene", x: d.choices, y: d.dawid_skene },
  ], layout("Votes and aggregated labels", { barmode: "group" }), config);

  if (d.confidence && d.confidence.counts) {
    const edges = d.confidence.edges;
    const mids = d.confidence.counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
    Plotly.newPlot("chart-confidence", [{ type: "bar", x: mids, y: d.confidence.counts, width: 0.09 }],
      layout("Dawid-Skene confidence per pair", { xaxis: { range: [0, 1], title: { text: "posterior" } } }), config);
  }

  Plotly.newPlot("chart-position", [{ type: "bar", x: d.annotators, y: d.left_share }],
    layout("Share of sided votes for the left response", {
      yaxis: { range: [0, 1] },
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 0.5, y1: 0.5, line: { dash: "dot", color: "#b42318" } }],
    }), config);

  Plotly.newPlot("chart-time", [{ type: "bar", x: d.annotators, y: d.median_time_s }],
    layout("Median seconds per vote"), config);

  if (d.kappa && d.kappa.length) {
    Plotly.newPlot("chart-kappa", [{ type: "heatmap", x: d.annotators, y: d.annotators, z: d.kappa, zmin: -1, zmax: 1, colorscale: "RdBu" }],
      layout("Cohen's kappa, each two annotators"), config);
  }
})();
