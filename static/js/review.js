// The pair review page, keyboard first: K keep, F flip, T tie, D drop, M more votes, U undo,
// J next pair, H history, N reason, ? help. Each decision is an ordinary form post; the server
// answers with the next pair of the queue's filter.
(function () {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const form = document.getElementById("decide");
  const action = document.getElementById("action");
  const reason = document.getElementById("reason");
  const overlay = document.getElementById("shortcuts");
  const KEYS = { k: "keep", f: "flip", t: "tie", d: "drop", m: "more_votes", u: "undo" };
  let sent = false;

  function decide(name) {
    const button = form.querySelector(`button[data-action="${name}"]`);
    if (!button || button.disabled || sent) return;
    sent = true; // one decision per page: a held key does not post twice
    action.value = name;
    form.querySelectorAll("button").forEach((b) => (b.disabled = true));
    form.submit();
  }

  form.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (!b) return;
    e.preventDefault();
    decide(b.dataset.action);
  });
  const help = () => (overlay.hidden = !overlay.hidden);
  document.getElementById("show-help").addEventListener("click", help);
  overlay.addEventListener("click", () => (overlay.hidden = true));

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target instanceof HTMLElement && e.target.matches("textarea, input, select");
    if (e.key === "Escape") {
      overlay.hidden = true;
      if (typing) e.target.blur();
      return;
    }
    if (typing) return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    let handled = true;
    if (key === "?") help();
    else if (!overlay.hidden) handled = false;
    else if (KEYS[key]) decide(KEYS[key]);
    else if (key === "n") reason.focus();
    else if (key === "j") {
      const next = document.getElementById("next-link");
      if (next) window.location.href = next.href;
    } else if (key === "h") window.location.href = document.getElementById("history-link").href;
    else handled = false;
    if (handled) e.preventDefault();
  });
})();
