// Live curves of a training run: each epoch's point arrives on /ws/training/<id>/ and is
// appended to the loss and accuracy charts (traces 0 = train, 1 = held-out, from the page).
(function () {
  const box = document.getElementById("training-live");
  if (!box || !window.Plotly || box.dataset.finished === "1") return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let done = false;
  function add(ev) {
    const x = [[ev.epoch + 1], [ev.epoch + 1]];
    const loss = document.getElementById("chart-loss");
    const acc = document.getElementById("chart-accuracy");
    if (loss) Plotly.extendTraces(loss, { x: x, y: [[ev.train_loss], [ev.heldout_loss]] }, [0, 1]);
    if (acc) Plotly.extendTraces(acc, { x: x, y: [[ev.train_accuracy], [ev.heldout_accuracy]] }, [0, 1]);
    box.dataset.epochs = String(ev.epoch + 1);
  }
  function connect() {
    const socket = new WebSocket(`${scheme}://${location.host}/ws/training/${box.dataset.runId}/`);
    socket.onopen = () => { box.dataset.live = "1"; };
    socket.onmessage = (msg) => add(JSON.parse(msg.data));
    socket.onclose = () => { box.dataset.live = "0"; if (!done) setTimeout(connect, 2000); };
  }
  // the job's own box (job.js) says when the run ends: then reload to show the metrics
  const job = document.getElementById("job-progress");
  if (job) {
    new MutationObserver(() => {
      const s = job.dataset.status;
      if (s === "succeeded" || s === "failed" || s === "cancelled") {
        done = true;
        if (s === "succeeded") setTimeout(() => location.reload(), 500);
      }
    }).observe(job, { attributes: true, attributeFilter: ["data-status"] });
  }
  connect();
})();
