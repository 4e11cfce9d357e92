// The step labelling page, keyboard first: G / N / B label the current step good / neutral /
// bad and move on, J / K (or the arrows) move between steps, F switches to first-error mode
// (X marks the current step as the first wrong one, A says every step is right), T toggles
// "stop at the first bad step", V shows one step at a time, Enter submits, S skips.
(function () {
  "use strict";
  const root = document.getElementById("step-labelling");
  if (!root || !root.dataset.token) return;
  const n = Number(root.dataset.steps);
  const steps = Array.from(document.querySelectorAll("#steps .step"));
  const list = document.getElementById("steps");
  const submit = document.getElementById("submit");
  const hint = document.getElementById("hint");
  const firstErrorMode = document.getElementById("first-error-mode");
  const stopAtBad = document.getElementById("stop-at-bad");
  const oneAtATime = document.getElementById("one-at-a-time");
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const NAMES = { "1": "good", "0": "neutral", "-1": "bad" };
  const labels = new Array(n).fill(null);
  let current = 0;
  let firstError = null; // first-error mode: a step, -1 (all correct) or null
  const shownAt = performance.now();

  function firstBad() { return labels.indexOf(-1); }

  function complete() {
    if (firstErrorMode.checked) return firstError !== null;
    const bad = firstBad();
    const upTo = stopAtBad.checked && bad >= 0 ? bad + 1 : n;
    return labels.slice(0, upTo).every((v) => v !== null);
  }

  function render() {
    const bad = firstErrorMode.checked ? firstError : firstBad();
    steps.forEach((el, i) => {
      let label = labels[i];
      if (firstErrorMode.checked) {
        label = firstError === null ? null : firstError === -1 || i < firstError ? 1 : i === firstError ? -1 : null;
      }
      el.dataset.label = label === null ? "" : String(label);
      el.querySelector(".step-label").textContent = label === null ? "not labelled" : NAMES[String(label)];
      el.classList.toggle("current", i === current);
      el.classList.toggle("after-bad", stopAtBad.checked && bad !== null && bad >= 0 && i > bad);
    });
    list.classList.toggle("one-at-a-time", oneAtATime.checked);
    document.getElementById("label-keys").hidden = firstErrorMode.checked;
    document.getElementById("first-error-keys").hidden = !firstErrorMode.checked;
    submit.disabled = !complete();
    steps[current].scrollIntoView({ block: "nearest" });
  }

  function move(delta) {
    current = Math.min(n - 1, Math.max(0, current + delta));
    render();
  }

  function label(value) {
    labels[current] = value;
    if (value === -1 && stopAtBad.checked) {
      for (let i = current + 1; i < n; i++) labels[i] = null;
      hint.textContent = "Stopped at the first bad step: Enter submits.";
    } else if (current < n - 1) {
      current += 1;
    }
    render();
  }

  function payload() {
    if (firstErrorMode.checked) {
      const steps_ = labels.map((_, i) => (firstError === -1 || i < firstError ? 1 : i === firstError ? -1 : null));
      return { steps: steps_, first_error: firstError };
    }
    const bad = firstBad();
    const out = labels.map((v, i) => (stopAtBad.checked && bad >= 0 && i > bad ? null : v));
    return { steps: out, first_error: null };
  }

  async function send() {
    if (!complete()) { hint.textContent = "Label every step first (or mark the first error)."; return; }
    submit.disabled = true;
    document.getElementById("save-state").textContent = "Saving…";
    const body = {
      token: root.dataset.token, round: Number(root.dataset.round), payload: payload(),
      time_ms: Math.round(performance.now() - shownAt),
    };
    const reply = await fetch(root.dataset.answerUrl, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    if (reply.ok) { window.location.reload(); return; }
    const error = await reply.json().catch(() => ({ error: reply.statusText }));
    document.getElementById("save-state").textContent = "";
    hint.textContent = "Not saved: " + error.error;
    submit.disabled = false;
  }

  document.querySelectorAll("#label-keys [data-label]").forEach((b) =>
    b.addEventListener("click", () => label(Number(b.dataset.label))));
  document.getElementById("prev").addEventListener("click", () => move(-1));
  document.getElementById("next").addEventListener("click", () => move(1));
  document.getElementById("mark-first").addEventListener("click", () => { firstError = current; render(); });
  document.getElementById("all-correct").addEventListener("click", () => { firstError = -1; render(); });
  [firstErrorMode, stopAtBad, oneAtATime].forEach((box) => box.addEventListener("change", render));
  submit.addEventListener("click", send);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLInputElement && event.target.type !== "checkbox") return;
    const key = event.key;
    const act = {
      ArrowDown: () => move(1), j: () => move(1), ArrowUp: () => move(-1), k: () => move(-1),
      f: () => { firstErrorMode.checked = !firstErrorMode.checked; render(); },
      t: () => { stopAtBad.checked = !stopAtBad.checked; render(); },
      v: () => { oneAtATime.checked = !oneAtATime.checked; render(); },
      Enter: send,
      s: () => document.getElementById("skip-form").requestSubmit(),
    };
    if (!firstErrorMode.checked) Object.assign(act, { g: () => label(1), n: () => label(0), b: () => label(-1) });
    else Object.assign(act, { x: () => { firstError = current; render(); }, a: () => { firstError = -1; render(); } });
    const handler = act[key.length === 1 ? key.toLowerCase() : key];
    if (handler) { event.preventDefault(); handler(); }
  });
  render();
})();
