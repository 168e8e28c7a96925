// The dashboard's charts (Chart.js, served from /app/static/vendor): rates as horizontal
// bars in percent, latencies as median and p90 side by side, runs counted by outcome.
(() => {
  "use strict";

  function plot(id, options) {
    const canvas = document.getElementById(id);
    const source = document.getElementById(`${id}-data`);
    if (!canvas || !source || !window.Chart) return;
    const data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: data.datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: options.legend, position: "bottom" } },
        ...options.chart,
      },
    });
    canvas.dataset.ready = "1";
  }

  plot("signal-rates", {
    legend: false,
    chart: { indexAxis: "y", scales: { x: { min: 0, max: 100 } } },
  });
  plot("signal-latencies", { legend: true, chart: { scales: { y: { beginAtZero: true } } } });
  plot("signal-statuses", {
    legend: false,
    chart: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
})();
