// The labelling page of items (ranking, best-worst, rating, pairwise per attribute), keyboard
// first. Responses are numbered as shown (1, 2, ...); the answer is built from those numbers and
// sent with the positions they stand for. One save at a time: the next item comes back with it.
(function () {
  "use strict";
  const root = document.getElementById("labelling-items");
  if (!root) return;
  const kind = root.dataset.kind;
  const attributes = JSON.parse(document.getElementById("attributes").textContent);
  const stage = document.getElementById("stage");
  const answerBox = document.getElementById("answer");
  const submitButton = document.getElementById("submit");
  const hint = document.getElementById("hint");
  const saveState = document.getElementById("save-state");
  const csrf = document.querySelector("#controls input[name=csrfmiddlewaretoken]").value;
  const SIDES = { 1: "left", 2: "right", 3: "tie" };

  let state = null; // per item: see fresh()
  let shownAt = performance.now();
  let busy = false;

  const item = () => stage.querySelector("section.item");
  const positions = () => JSON.parse(item().dataset.positions);
  const count = () => positions().length;

  // Rows of a grid answer (rating, pairwise): one cell per (response, attribute) or per attribute.
  function cells() {
    if (kind === "rating") {
      const out = [];
      for (let n = 1; n <= count(); n++) attributes.forEach((a) => out.push({ n, attribute: a }));
      return out;
    }
    return attributes.map((a) => ({ attribute: a })).concat([{ attribute: { name: "", low: 1, high: 3 } }]);
  }

  function fresh() {
    state = { tiers: [], tieNext: false, best: null, worst: null, values: [] };
    const undone = item() && item().dataset.undone ? JSON.parse(item().dataset.undone) : null;
    if (undone) refill(undone);
    shownAt = performance.now();
  }

  // An undone answer comes back filled in, in this item's numbering.
  function refill(payload) {
    const number = (pos) => positions().indexOf(pos) + 1;
    if (kind === "ranking") state.tiers = payload.tiers.map((tier) => tier.map(number));
    else if (kind === "best_worst") [state.best, state.worst] = [number(payload.best), number(payload.worst)];
    else if (kind === "rating") state.values = cells().map((c) => payload.ratings[String(positions()[c.n - 1])][c.attribute.name]);
    else {
      const first = positions()[0];
      const key = (side) => (side === "tie" ? 3 : (side === "a") === (first === 0) ? 1 : 2);
      state.values = cells().map((c) => key(c.attribute.name ? payload.attributes[c.attribute.name] : payload.overall));
    }
  }

  const placed = () => state.tiers.flat();
  function complete() {
    if (!item()) return false;
    if (kind === "ranking") return placed().length === count();
    if (kind === "best_worst") return state.best !== null && state.worst !== null;
    return state.values.length === cells().length;
  }

  function text(tag, content, cls) {
    const el = document.createElement(tag);
    el.textContent = content;
    if (cls) el.className = cls;
    return el;
  }

  function render() {
    answerBox.replaceChildren();
    const section = item();
    submitButton.disabled = busy || !complete();
    document.getElementById("skip").disabled = busy || !section;
    if (!section) return;
    const badges = {};
    if (kind === "ranking") {
      const parts = state.tiers.map((tier, i) => (i + 1) + ". " + tier.map((n) => "Response " + n).join(" = "));
      answerBox.append(text("p", parts.length ? parts.join("   ") : "Nothing ranked yet", "order"));
      state.tiers.forEach((tier, i) => tier.forEach((n) => (badges[n] = "#" + (i + 1))));
    } else if (kind === "best_worst") {
      if (state.best !== null) badges[state.best] = "best";
      if (state.worst !== null) badges[state.worst] = "worst";
      answerBox.append(text("p", "Best: " + (state.best ?? "…") + "   Worst: " + (state.worst ?? "…"), "order"));
    } else {
      const table = document.createElement("table");
      cells().forEach((c, i) => {
        const row = table.insertRow();
        const name = c.attribute.name || "overall";
        row.insertCell().textContent = (c.n ? "Response " + c.n + " · " : "") + name;
        const keys = kind === "rating" ? c.attribute.low + "–" + c.attribute.high : "1 / 2 / 3 (tie)";
        row.insertCell().textContent = keys;
        const value = row.insertCell();
        const v = state.values[i];
        value.textContent = v === undefined ? "" : kind === "rating" ? String(v) : { 1: "Response 1", 2: "Response 2", 3: "tie" }[v];
        if (i === state.values.length) value.classList.add("now");
        if (c.attribute.description) row.title = c.attribute.description;
      });
      answerBox.append(table);
    }
    section.querySelectorAll("details.response").forEach((d) => {
      const badge = d.querySelector("[data-badge]");
      badge.textContent = badges[d.dataset.number] || "";
      d.classList.toggle("placed", Boolean(badges[d.dataset.number]));
    });
  }

  function press(digit) {
    if (kind === "ranking") {
      if (digit < 1 || digit > count() || placed().includes(digit)) return say("Press a number not ranked yet");
      if (state.tieNext && state.tiers.length) state.tiers[state.tiers.length - 1].push(digit);
      else state.tiers.push([digit]);
      state.tieNext = false;
    } else if (kind === "best_worst") {
      if (digit < 1 || digit > count()) return say("No response " + digit);
      if (state.best === null) state.best = digit;
      else if (state.worst === null && digit !== state.best) state.worst = digit;
      else return say(state.worst === null ? "The worst must differ from the best" : "Both chosen: Enter sends");
    } else {
      const c = cells()[state.values.length];
      if (!c) return say("All answered: Enter sends");
      const ok = kind === "rating" ? digit >= c.attribute.low && digit <= c.attribute.high : digit >= 1 && digit <= 3;
      if (!ok) return say("Use " + (kind === "rating" ? c.attribute.low + "–" + c.attribute.high : "1, 2 or 3"));
      state.values.push(digit);
    }
    say("");
    render();
  }

  function back() {
    if (kind === "ranking") {
      const last = state.tiers[state.tiers.length - 1];
      if (last) last.pop();
      if (last && !last.length) state.tiers.pop();
    } else if (kind === "best_worst") {
      if (state.worst !== null) state.worst = null;
      else state.best = null;
    } else state.values.pop();
    render();
  }

  function payload() {
    const pos = (n) => positions()[n - 1];
    if (kind === "ranking") return { tiers: state.tiers.map((tier) => tier.map(pos)) };
    if (kind === "best_worst") return { shown: positions(), best: pos(state.best), worst: pos(state.worst) };
    if (kind === "rating") {
      const ratings = {};
      cells().forEach((c, i) => {
        const key = String(pos(c.n));
        ratings[key] = ratings[key] || {};
        ratings[key][c.attribute.name] = state.values[i];
      });
      return { ratings };
    }
    // pairwise: "a" is position 0, whichever side it was shown on
    const side = (v) => (v === 3 ? "tie" : (SIDES[v] === "left") === (positions()[0] === 0) ? "a" : "b");
    const out = { overall: null, attributes: {} };
    cells().forEach((c, i) => {
      if (c.attribute.name) out.attributes[c.attribute.name] = side(state.values[i]);
      else out.overall = side(state.values[i]);
    });
    return out;
  }

  function say(message) {
    hint.textContent = message;
  }

  async function post(url, data) {
    busy = true;
    saveState.dataset.state = "saving";
    saveState.textContent = "Saving…";
    render();
    try {
      const r = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf },
        body: new URLSearchParams(data),
      });
      if (r.status === 400) {
        say(await r.text());
        return;
      }
      if (!r.ok) throw new Error("HTTP " + r.status);
      if (r.status !== 204) {
        stage.innerHTML = await r.text();
        fresh();
      }
      saveState.dataset.state = "saved";
      saveState.textContent = "All saved";
      return r;
    } catch (error) {
      saveState.dataset.state = "retrying";
      saveState.textContent = "Not saved: " + error.message + " (press Enter to retry)";
    } finally {
      busy = false;
      render();
    }
  }

  async function submit() {
    if (busy || !complete()) return;
    const section = item();
    const r = await post(root.dataset.answerUrl, {
      token: section.dataset.token,
      round: section.dataset.round,
      payload: JSON.stringify(payload()),
      time_ms: String(Math.round(performance.now() - shownAt)),
    });
    if (r) {
      const mine = document.getElementById("my-votes");
      mine.textContent = String(Number(mine.textContent) + 1);
    }
  }

  function skip() {
    const section = item();
    if (!busy && section) post(root.dataset.skipUrl, { token: section.dataset.token, round: section.dataset.round, prefetch: "1" });
  }

  async function undo() {
    if (busy) return;
    const r = await post(root.dataset.undoUrl, {});
    if (r && r.status === 204) say("Nothing to undo");
    else if (r) {
      const mine = document.getElementById("my-votes");
      mine.textContent = String(Math.max(0, Number(mine.textContent) - 1));
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLElement && event.target.matches("input, textarea, select")) return;
    const key = event.key;
    if (/^[0-9]$/.test(key)) press(Number(key));
    else if (key === "=" && kind === "ranking") {
      state.tieNext = true;
      say("Tied with the last one: press its number");
    } else if (key === "Backspace") back();
    else if (key === "Enter") submit();
    else if (key === "s" || key === "S") skip();
    else if (key === "u" || key === "U") undo();
    else return;
    event.preventDefault();
  });
  submitButton.addEventListener("click", submit);
  document.getElementById("skip").addEventListener("click", skip);
  document.getElementById("undo").addEventListener("click", undo);
  fresh();
  render();
})();
