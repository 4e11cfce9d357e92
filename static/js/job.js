// Live job progress: a WebSocket on /ws/jobs/<id>/; htmx polling takes over when it drops.
(function () {
  const box = document.getElementById("job-progress");
  if (!box) return;
  const id = box.dataset.jobId;
  const finished = new Set(["succeeded", "failed", "cancelled"]);
  function render(ev) {
    box.querySelector("[data-bar]").style.width = ev.percent + "%";
    box.querySelector("[data-status]").textContent = ev.status;
    box.querySelector("[data-percent]").textContent = ev.percent.toFixed(1) + "%";
    box.querySelector("[data-message]").textContent = ev.message || "";
    box.querySelector("[data-error]").textContent = ev.error || "";
    box.dataset.status = ev.status;
    if (finished.has(ev.status)) {
      const link = box.querySelector("[data-result]");
      if (ev.result_url && link) { link.href = ev.result_url; link.hidden = false; }
      const cancel = document.getElementById("job-cancel");
      if (cancel) cancel.hidden = true;
    }
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let socket;
  function connect() {
    socket = new WebSocket(`${scheme}://${location.host}/ws/jobs/${id}/`);
    socket.onopen = () => { box.dataset.live = "1"; };
    socket.onmessage = (msg) => render(JSON.parse(msg.data));
    socket.onclose = () => {
      box.dataset.live = "0";
      if (!finished.has(box.dataset.status)) setTimeout(connect, 2000);
    };
  }
  connect();
})();
