// Draws every Plotly figure on the page: a <script type="application/json" id="X-data">
// holding a figure's JSON is drawn into the element with id X.
(function () {
  if (!window.Plotly) return;
  document.querySelectorAll('script[type="application/json"][id$="-data"]').forEach((node) => {
    const target = document.getElementById(node.id.slice(0, -"-data".length));
    if (!target) return;
    const figure = JSON.parse(JSON.parse(node.textContent));
    Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
  });
})();
