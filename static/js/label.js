// The labelling page, keyboard first. The pair on screen lives in #stage and the next one waits,
// already fetched, in #buffer: a vote shows the next pair at once while the vote is saved in
// the background. Saves run one after another and are retried until the server answers;
// each carries its assignment's token and round, so a retry can never store a vote twice.
(function () {
  "use strict";
  const root = document.getElementById("labelling");
  if (!root) return;
  const stage = document.getElementById("stage");
  const buffer = document.getElementById("buffer");
  const form = document.getElementById("controls");
  const rationale = document.getElementById("rationale");
  const submitButton = document.getElementById("submit");
  const undoButton = document.getElementById("undo");
  const hint = document.getElementById("hint");
  const saveState = document.getElementById("save-state");
  const overlay = document.getElementById("shortcuts");
  const levels = Number(root.dataset.levels || 0);
  // A project may make the strength optional: then Enter sends an A / B vote without one.
  const strengthRequired = root.dataset.strengthRequired !== "0";
  const strengthKeys = "qwertyuio".slice(0, levels);
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const SIDES = { 1: "left", 2: "right", 3: "tie", 4: "both_bad" };

  const state = { side: null, strength: null, shownAt: 0, hiddenMs: 0, hiddenSince: null };
  let chain = Promise.resolve(); // saves, in order
  let unsaved = 0;
  let canUndo = false;

  const current = () => stage.querySelector("section.pair");
  const buffered = () => buffer.querySelectorAll("section.pair, section.pair-done");
  // Whether the chosen side takes a strength (A or B on a graded scale), and must have one.
  const graded = () => levels > 0 && (state.side === "left" || state.side === "right");
  const needsStrength = () => graded() && strengthRequired;
  const ready = () => Boolean(current() && state.side && (!needsStrength() || state.strength !== null));

  function activeMs() {
    const now = performance.now();
    const hidden = state.hiddenMs + (state.hiddenSince === null ? 0 : now - state.hiddenSince);
    return Math.max(0, Math.round(now - state.shownAt - hidden));
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) state.hiddenSince = performance.now();
    else if (state.hiddenSince !== null) {
      state.hiddenMs += performance.now() - state.hiddenSince;
      state.hiddenSince = null;
    }
  });

  function render() {
    form.querySelectorAll("button.choice").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.choice === state.side));
    });
    form.querySelectorAll("button.strength").forEach((b) => {
      b.disabled = !graded();
      b.setAttribute("aria-pressed", String(graded() && Number(b.dataset.strength) === state.strength));
    });
    stage.querySelectorAll("article.side").forEach((a) => {
      a.classList.toggle("chosen", a.dataset.side === state.side);
    });
    const pair = current();
    submitButton.disabled = !ready();
    form.querySelector("#skip").disabled = !pair;
    undoButton.disabled = !canUndo;
    form.classList.toggle("inactive", !pair);
    hint.textContent = pair && state.side && !ready() ? "How much better? " + strengthKeys.toUpperCase().split("").join(" / ") : "";
  }

  // Put a section on stage: a pair (fresh or undone, with its earlier answer) or the "done" note.
  function show(section) {
    stage.replaceChildren(section);
    const d = section.dataset;
    state.side = d.side || null;
    state.strength = d.strength !== undefined && d.strength !== "" ? Number(d.strength) : null;
    const saved = section.querySelector("template.rationale");
    rationale.value = saved ? saved.content.textContent : "";
    state.shownAt = performance.now();
    state.hiddenMs = 0;
    state.hiddenSince = document.hidden ? performance.now() : null;
    render();
    window.scrollTo(0, 0);
  }

  function advance() {
    const next = buffer.querySelector("section.pair, section.pair-done");
    if (next) show(next);
    else {
      stage.innerHTML = '<p class="muted loading">Loading the next pair…</p>';
      render();
    }
  }

  // The project's counter: this page's own votes count at once; the server's figures (with each
  // vote's answer, and every 15 s) bring everyone else's. They may be a few seconds old (cached
  // on the server), so they never take the count below what this page has seen.
  const projectVotes = document.getElementById("project-votes");
  const projectWanted = document.getElementById("project-wanted");
  function showProgress(votes, wanted) {
    projectVotes.textContent = String(votes);
    projectWanted.textContent = String(wanted);
    const percent = wanted ? Math.min(100, (100 * votes) / wanted) : 100;
    document.getElementById("project-bar").style.width = percent.toFixed(1) + "%";
    document.getElementById("project-percent").textContent = percent.toFixed(1) + "%";
  }
  function serverProgress(votes, wanted) {
    if (Number.isFinite(votes) && Number.isFinite(wanted) && wanted > 0) {
      showProgress(Math.max(votes, Number(projectVotes.textContent)), wanted);
    }
  }
  setInterval(() => {
    fetch(document.getElementById("progress").dataset.url, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((p) => p && serverProgress(p.votes, p.wanted))
      .catch(() => {}); // the next vote or tick tries again
  }, 15000);

  function count(delta) {
    const mine = document.getElementById("my-votes");
    mine.textContent = String(Number(mine.textContent) + delta);
    showProgress(Math.max(0, Number(projectVotes.textContent) + delta), Number(projectWanted.textContent));
  }

  // The server's answer to a vote or skip: maybe the next pair, for the buffer.
  function receive({ html, status, progress }) {
    if (status === "stored") count(1);
    if (progress && progress[0] !== null) serverProgress(Number(progress[0]), Number(progress[1]));
    if (!html || !html.trim()) return;
    htmx.swap(buffer, html, { swapStyle: "beforeend" });
    // Only one "nothing left" note is useful.
    const notes = buffer.querySelectorAll("section.pair-done");
    for (let i = 1; i < notes.length; i++) notes[i].remove();
    if (!stage.querySelector("section")) advance();
  }

  function setSaving() {
    saveState.dataset.state = unsaved ? "saving" : "saved";
    saveState.textContent = unsaved ? `Saving ${unsaved}…` : "All saved";
  }

  class Refused extends Error {}

  // POST until the server answers: network errors and 5xx are retried with backoff; 4xx is final.
  async function post(url, data) {
    const body = new URLSearchParams(data);
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await fetch(url, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrf, "HX-Request": "true" },
        });
        if (r.ok) {
          const progress = [r.headers.get("X-Project-Votes"), r.headers.get("X-Project-Wanted")];
          return { html: r.status === 204 ? "" : await r.text(), status: r.headers.get("X-Vote-Status"), progress };
        }
        if (r.status < 500 && r.status !== 429) throw new Refused(`${r.status} ${await r.text()}`);
      } catch (e) {
        if (e instanceof Refused) throw e;
      }
      saveState.dataset.state = "retrying";
      saveState.textContent = `Saving ${unsaved}… (retrying)`;
      await new Promise((ok) => setTimeout(ok, Math.min(8000, 300 * 2 ** attempt)));
    }
  }

  function save(url, data) {
    unsaved++;
    setSaving();
    chain = chain
      .then(() => post(url, data))
      .then(receive)
      .catch((e) => {
        hint.textContent = "Not saved: " + e.message.slice(0, 200);
      })
      .finally(() => {
        unsaved--;
        setSaving();
      });
    return chain;
  }

  function finish(url, extra) {
    const pair = current();
    if (!pair) return;
    // Ask for one more pair when the buffer will be empty once its first pair is on stage.
    const prefetch = buffered().length <= 1 ? "1" : "0";
    const data = Object.assign({ token: pair.dataset.token, round: pair.dataset.round, prefetch }, extra);
    advance();
    save(url, data);
  }

  function submit() {
    if (!ready()) {
      hint.textContent = !current() ? "" : !state.side ? "Choose 1, 2, 3 or 4 first" : "How much better? " + strengthKeys.toUpperCase().split("").join(" / ");
      return;
    }
    const data = {
      choice: state.side,
      strength: graded() && state.strength !== null ? String(state.strength) : "",
      rationale: rationale.value,
      time_ms: String(activeMs()),
    };
    canUndo = true;
    finish(root.dataset.voteUrl, data);
  }

  function skip() {
    canUndo = false;
    finish(root.dataset.skipUrl, {});
  }

  function undo() {
    if (!canUndo) return;
    canUndo = false;
    render();
    unsaved++;
    setSaving();
    // After every pending save, so the vote to undo is the one the server has last.
    chain = chain
      .then(() => post(root.dataset.undoUrl, {}))
      .then(({ html }) => {
        if (!html.trim()) return;
        const holder = document.createElement("div");
        holder.innerHTML = html;
        const section = holder.querySelector("section.pair");
        if (!section) return;
        count(-1);
        const shownNow = stage.querySelector("section");
        if (shownNow) buffer.prepend(shownNow);
        show(section);
      })
      .catch((e) => {
        hint.textContent = "Undo failed: " + e.message.slice(0, 200);
      })
      .finally(() => {
        unsaved--;
        setSaving();
      });
  }

  function choose(side) {
    if (!current()) return;
    if (state.side !== side) state.strength = null;
    state.side = side;
    render();
  }

  function toggleHelp(show) {
    overlay.hidden = show === undefined ? !overlay.hidden : !show;
  }

  form.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    if (b.dataset.choice) choose(b.dataset.choice);
    else if (b.dataset.strength !== undefined && graded()) {
      state.strength = Number(b.dataset.strength);
      render();
    } else if (b.id === "submit") submit();
    else if (b.id === "skip") skip();
    else if (b.id === "undo") undo();
  });
  document.getElementById("show-help").addEventListener("click", () => toggleHelp());
  overlay.addEventListener("click", () => toggleHelp(false));

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target instanceof HTMLElement && e.target.matches("textarea, input, select");
    if (e.key === "Escape") {
      toggleHelp(false);
      if (typing) e.target.blur();
      return;
    }
    if (typing) {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        submit();
      }
      return;
    }
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    let handled = true;
    if (key === "?") toggleHelp();
    else if (!overlay.hidden) handled = false;
    else if (SIDES[key]) choose(SIDES[key]);
    else if (strengthKeys.includes(key) && key.length === 1) {
      if (graded()) {
        state.strength = strengthKeys.indexOf(key);
        render();
      }
    } else if (key === "Enter") submit();
    else if (key === "s") skip();
    else if (key === "u") undo();
    else if (key === "n") rationale.focus();
    else handled = false;
    if (handled) e.preventDefault();
  });

  // A page that opened with one pair only asks for the next one now, not after the first vote.
  const first = current();
  if (first) show(first);
  else render();
  if (first && buffered().length === 0) {
    save(root.dataset.nextUrl, {});
  }
})();
