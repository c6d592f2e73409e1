// The judging surface: one trace's steps, verdicts, first error, cursor, critiques and tags, kept in the page.
//
// Every key acts here at once; Python hears of the work only when it matters (a draft a moment after the last
// change, submit, skip, back), as one message at a time carrying the trace id, a sequence number and the whole
// working copy. Data from Python that is older than what the page holds never undoes keys typed meanwhile.
// Keys pressed while the next trace is on its way are kept and replayed on it. Until the server confirms a
// change, it is also kept in localStorage, so a closed tab or a lost connection loses nothing.
//
// Trace text arrives as markup that the server has already sanitised (annotation/rendering); every other
// string is set as text, never as HTML.

const CONTROLLERS = new WeakMap();
const CORRECT = 1;
const NEUTRAL = 0;
const WRONG = -1;
const VERDICT_NAMES = { 1: "Correct", 0: "Neutral", "-1": "Wrong" };
const DRAFT_DELAY_MS = 600;
const RESEND_AFTER_MS = 8000;
const STORE_PREFIX = "redline.unsent.";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function isTextBox(node) {
  if (!node || !node.tagName) return false;
  const tag = node.tagName.toLowerCase();
  if (tag === "textarea" || tag === "select") return true;
  if (tag === "input") return !["button", "checkbox", "radio", "submit", "reset"].includes((node.type || "").toLowerCase());
  return node.isContentEditable;
}

function sameWork(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function clone(work) {
  return JSON.parse(JSON.stringify(work));
}

// ---- the rules of judging, as annotation/workflow/labelling.py has them -------------------------------------

function firstWrong(work) {
  const i = work.steps.findIndex((s) => s.verdict === WRONG);
  return i < 0 ? null : i;
}

function firstError(work) {
  for (let i = 0; i < work.steps.length; i++) {
    if (work.steps[i].verdict === WRONG) return i;
    if (work.steps[i].verdict === null) return null;
  }
  return -1;
}

function greyed(work, mode) {
  const first = firstWrong(work);
  const out = new Set();
  if (mode !== "first_error" || first === null) return out;
  for (let i = first + 1; i < work.steps.length; i++) out.add(i);
  return out;
}

function madeCorrect(step) {
  return { ...step, verdict: CORRECT, tags: [], correction: "", because_of: null };
}

function withVerdict(work, i, verdict, mode) {
  const steps = work.steps.map((s) => ({ ...s }));
  steps[i] = verdict === CORRECT ? madeCorrect(steps[i]) : { ...steps[i], verdict };
  if (mode === "first_error" && verdict === WRONG) {
    for (let k = 0; k < i; k++) if (steps[k].verdict === null) steps[k] = madeCorrect(steps[k]);
  }
  return { ...work, steps };
}

function allCorrect(work) {
  const steps = work.steps.map((s) => {
    if (s.verdict === WRONG) return { verdict: CORRECT, critique: "", tags: [], correction: "", because_of: null };
    if (s.verdict === null) return madeCorrect(s);
    return s;
  });
  return { ...work, steps, solution_correct: true };
}

function missing(work, mode) {
  if (mode === "check") {
    // Every step up to my first error is checked, and the critique as a whole is rated.
    const first = firstWrong(work);
    const last = first === null ? work.steps.length - 1 : first;
    const unchecked = [];
    for (let i = 0; i <= last; i++) if (work.steps[i].verdict === null) unchecked.push(i + 1);
    const left = [];
    if (unchecked.length) left.push(`a check of step ${unchecked.slice(0, 8).join(", ")}${unchecked.length > 8 ? "…" : ""}`);
    if (!work.rating) left.push("a rating of the critique as a whole (G, P or M)");
    return left;
  }
  if (work.finish) return work.finish_note.trim() ? [] : [`a reason for '${work.finish.replace("_", " ")}'`];
  let unrated = [];
  work.steps.forEach((s, i) => {
    if (s.verdict === null) unrated.push(i + 1);
  });
  if (mode === "first_error") unrated = firstError(work) !== null ? [] : unrated.slice(0, 1);
  if (!unrated.length) return [];
  return [`a verdict on step ${unrated.slice(0, 8).join(", ")}${unrated.length > 8 ? "…" : ""}`];
}

function summary(work, mode) {
  const first = firstError(work);
  let text;
  if (mode === "check") {
    const wrong = firstWrong(work);
    text = wrong === null ? "You have marked no step wrong." : `Your first error: Step ${wrong + 1}.`;
    const left = missing(work, mode);
    if (left.length) text += ` Still needed: ${left.join("; ")}.`;
    return { text, error: wrong !== null };
  }
  if (work.finish) text = `Finished as ${work.finish.replace("_", " ")}.`;
  else if (first === null) text = "No first error marked yet.";
  else if (first === -1) text = "Every step is correct: no error.";
  else text = `First error: Step ${first + 1}.`;
  const left = missing(work, mode);
  if (left.length) text += ` Still needed: ${left.join("; ")}.`;
  return { text, error: first !== null && first >= 0 && !work.finish };
}

// ---- the controller of one mounted surface --------------------------------------------------------------------

class Surface {
  constructor(parent) {
    this.parent = parent;
    this.root = el("div", { className: "rl-judge", tabindex: "-1", "data-testid": "judge" });
    parent.append(this.root);
    this.traceId = null;
    this.seq = 0; // the newest local change
    this.acked = -1; // the newest change the server confirmed
    this.inflight = null; // {kind, seq, at}: at most one message on its way
    this.navigating = null; // {kind, seq}: a submit, skip or back waiting for the next trace
    this.queue = []; // keys pressed while the next trace is on its way
    this.timer = null;
    this.cursor = 0;
    this.noticeId = null;
    this.reset = null;
    this.onKey = (e) => this.key(e);
    document.addEventListener("keydown", this.onKey, true);
    this.onHide = () => this.flush();
    window.addEventListener("pagehide", this.onHide);
  }

  // ---- data from Python ----

  receive(data, send) {
    this.send = send;
    this.data = data;
    if (!data.trace) {
      this.traceId = null;
      this.renderEmpty(data);
      return;
    }
    if (this.leaving && data.trace.id !== this.leaving.traceId) {
      // The server took the submit (or skip, back): it holds everything of the trace left behind.
      this.forgetStored(this.leaving.traceId);
      this.leaving = null;
    }
    if (this.optimistic && data.trace.id === this.traceId) {
      // The trace shown in advance is the one the server moved to: the submit is confirmed.
      this.optimistic = null;
      this.inflight = null;
    }
    if (data.trace.id !== this.traceId) {
      // A new trace, or the one left behind coming back because the server refused to leave it (the notice says
      // why); what was typed on the trace shown in advance stays in this browser, offered when it is opened.
      const unsaid =
        this.optimistic && data.trace.id === this.optimistic.from && !(data.notice && data.notice.id !== this.noticeId);
      this.optimistic = null;
      this.leaving = null;
      this.inflight = null;
      this.navigating = null;
      this.adopt(data);
      if (unsaid) {
        // The server answered without having taken the submission (the connection dropped and came back).
        this.notice("warning", "Not submitted: the connection dropped before the server took it. Your work is here; submit again.");
      }
      const keys = this.queue;
      this.queue = [];
      for (const k of keys) this.press(k.action, k.arg); // a submit among them queues the rest again
      return;
    }
    if (this.inflight && !this.optimistic && data.ack >= this.inflight.seq) this.inflight = null;
    if (data.ack > this.acked) this.acked = data.ack;
    if (this.reset !== data.reset) {
      // The server replaced the work (the person chose the newer version): take it as it is.
      this.reset = data.reset;
      this.work = clone(data.work);
      this.acked = this.seq;
      this.forgetStored();
      // The steps themselves may have changed (merged or split): draw them anew.
      this.cursor = Math.min(this.cursor, this.work.steps.length - 1);
      this.renderTrace(true);
    } else if (this.acked >= this.seq) {
      this.forgetStored();
      if (!sameWork(this.work, data.work)) {
        this.work = clone(data.work);
        this.renderTrace();
      }
    }
    if (this.navigating && data.ack >= this.navigating.seq) {
      // Refused (the server said why): keys typed for the next trace are not applied to this one.
      this.navigating = null;
      if (this.queue.length) {
        this.queue = [];
        this.renderMeta();
        this.notice("warning", `${this.noticeBox.textContent} Keys pressed after it were not applied.`.trim());
        this.pump();
        return;
      }
    }
    this.renderMeta();
    this.pump();
  }

  adopt(data) {
    this.traceId = data.trace.id;
    this.work = clone(data.work);
    this.seq = 0;
    this.acked = Math.max(data.ack, 0);
    this.reset = data.reset;
    this.cursor = this.startCursor();
    clearTimeout(this.timer);
    this.renderTrace(true);
    this.renderMeta();
    this.restoreStored();
    const active = document.activeElement;
    if (active && active !== document.body && !this.root.contains(active) && isTextBox(active)) active.blur();
    this.showCursor();
  }

  startCursor() {
    const i = this.work.steps.findIndex((s) => s.verdict === null);
    return i < 0 ? 0 : i;
  }

  // ---- changes, kept locally and sent when they matter ----

  change(work, { paint = true } = {}) {
    this.work = work;
    this.seq += 1;
    this.store();
    if (!this.navigating) this.status.textContent = "Not saved yet";
    if (paint) this.paint();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, DRAFT_DELAY_MS);
  }

  message(kind) {
    // draft_version: the saved draft this copy started from (the server's own versioned drafts decide conflicts).
    const base = this.data.draft_version;
    return { kind, seq: this.seq, trace_id: this.traceId, draft_version: base, user: this.data.user, work: this.work };
  }

  transmit(kind) {
    this.inflight = { kind, seq: this.seq, at: Date.now(), message: this.message(kind) };
    this.resend();
  }

  resend() {
    this.send(this.inflight.message);
    clearTimeout(this.resendTimer);
    this.resendTimer = setTimeout(() => this.stalled(), RESEND_AFTER_MS);
  }

  stalled() {
    if (!this.inflight) return;
    // The same message again (same trace, same sequence number): the server takes it once.
    this.notice("warning", "Still waiting for the server; your work is kept in this browser and sent again.");
    this.resend();
  }

  pump() {
    // A draft goes only when nothing else is on its way, and a moment after the last change.
    if (this.inflight || this.navigating || this.timer || this.seq <= this.acked || !this.traceId) return;
    this.transmit("draft");
  }

  flush() {
    if (this.traceId && this.seq > this.acked && !this.inflight && !this.navigating) this.transmit("draft");
  }

  storeKey(traceId = this.traceId) {
    return `${STORE_PREFIX}${this.data.user}.${traceId}`;
  }

  store() {
    try {
      localStorage.setItem(
        this.storeKey(),
        JSON.stringify({ work: this.work, base: this.data.draft_version, at: new Date().toISOString() }),
      );
    } catch (e) {
      /* storage full or refused: the server copy still follows */
    }
  }

  forgetStored(traceId = this.traceId) {
    try {
      localStorage.removeItem(this.storeKey(traceId));
    } catch (e) {
      /* nothing to forget */
    }
  }

  restoreStored() {
    if (this.readOnly()) return;
    let kept = null;
    try {
      kept = JSON.parse(localStorage.getItem(this.storeKey()) || "null");
    } catch (e) {
      kept = null;
    }
    if (!kept || !kept.work || !Array.isArray(kept.work.steps)) return;
    if (kept.work.steps.length !== this.work.steps.length || sameWork(kept.work, this.work)) {
      this.forgetStored();
      return;
    }
    const when = new Date(kept.at).toLocaleString();
    if (kept.base === this.data.draft_version) {
      this.change(kept.work);
      this.renderTrace();
      this.notice("info", `Restored what you did on this trace at ${when}, which had not reached the server.`);
      return;
    }
    this.offer(kept, when);
  }

  // ---- keys ----

  key(e) {
    if (!this.root.isConnected) {
      document.removeEventListener("keydown", this.onKey, true);
      window.removeEventListener("pagehide", this.onHide);
      return;
    }
    if (!this.traceId) return;
    const target = e.target;
    const inside = this.root.contains(target);
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      if (!inside && isTextBox(target)) return;
      e.preventDefault();
      e.stopPropagation();
      this.press("submit");
      return;
    }
    if (isTextBox(target)) {
      if (inside && e.key === "Escape") {
        e.preventDefault();
        target.blur();
        this.root.focus({ preventScroll: true });
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (this.tagMode && this.tagKey(e)) return;
    const action = this.data.keys[e.key] || this.data.keys[e.key.toLowerCase()];
    if (!action) return;
    if (this.readOnly() && !["next", "previous", "first_error", "help", "plain"].includes(action)) return;
    e.preventDefault();
    e.stopPropagation();
    this.press(action);
  }

  readOnly() {
    return this.data.label_mode === "view";
  }

  press(action, arg) {
    if (this.navigating) {
      this.queue.push({ action, arg });
      return;
    }
    this.act(action, arg);
  }

  act(action, arg) {
    this.clearNotice();
    const mode = this.data.label_mode;
    const n = this.work.steps.length;
    switch (action) {
      case "correct":
      case "neutral":
      case "wrong": {
        const verdict = { correct: CORRECT, neutral: NEUTRAL, wrong: WRONG }[action];
        const i = arg === undefined ? this.cursor : arg;
        if (greyed(this.work, mode).has(i)) {
          this.notice("info", `Step ${i + 1} needs no verdict: it comes after the first error.`);
          return;
        }
        this.cursor = i;
        this.lastChange = Date.now();
        this.change(withVerdict(this.work, i, verdict, mode));
        if (arg === undefined && verdict !== WRONG && i < n - 1) this.move(1);
        else this.showCursor();
        return;
      }
      case "next":
        return this.move(1);
      case "previous":
        return this.move(-1);
      case "first_error": {
        const first = firstWrong(this.work);
        if (first === null) {
          this.notice("info", "No step is marked wrong yet.");
          return;
        }
        this.cursor = first;
        this.paint();
        this.showCursor();
        return;
      }
      case "critique":
        return this.openBox("critique");
      case "tags":
        return this.openTags();
      case "overall":
        return this.focusField("overall");
      case "all_correct":
        this.lastChange = Date.now();
        this.change(allCorrect(this.work));
        return;
      case "submit":
        return this.submit();
      case "skip":
      case "back":
        return this.navigate(action);
      case "help":
        this.help.hidden = !this.help.hidden;
        return;
      case "accept":
      case "reject":
        return this.judgeModel(action);
      case "merge":
        if (mode === "check" || this.readOnly()) return;
        if (this.cursor >= n - 1) {
          this.notice("info", "The last step has no step after it to merge with.");
          return;
        }
        return this.restructure("merge", { step: this.cursor });
      case "split":
        if (mode === "check" || this.readOnly()) return;
        return this.openSplit();
      case "mark":
        if (mode === "check" || this.readOnly()) return;
        return this.openMarks(this.cursor);
      case "missing":
        if (mode === "check" || this.readOnly()) return;
        return this.addMissing(this.cursor + 1);
      case "because":
        if (mode === "check" || this.readOnly()) return;
        return this.cycleBecause(this.cursor);
      case "corrected":
        if (mode === "check" || this.readOnly()) return;
        return this.focusCorrected();
      case "plain":
        if (mode === "check") return;
        this.plain = !this.plain;
        this.paint();
        return;
      case "rate_helpful":
      case "rate_partly":
      case "rate_misleading":
        if (mode !== "check") return;
        this.change({ ...this.work, rating: { rate_helpful: "helpful", rate_partly: "partly_helpful", rate_misleading: "misleading" }[action] });
        return;
    }
  }

  judgeModel(action) {
    // Check critiques: take the model's verdict and explanation on the current step (Y), or the opposite verdict (N).
    if (this.data.label_mode !== "check") return;
    const i = this.cursor;
    const model = this.data.model_steps[i];
    if (action === "accept" && model.verdict === null) {
      this.notice("warning", `The model gave no verdict on step ${i + 1} to accept: give your own with 1, 2 or 3.`);
      return;
    }
    if (action === "reject" && model.verdict !== CORRECT && model.verdict !== WRONG) {
      this.notice("warning", `The model said neither correct nor wrong on step ${i + 1}: give your own with 1, 2 or 3.`);
      return;
    }
    const step =
      action === "accept"
        ? { ...this.work.steps[i], verdict: model.verdict, critique: model.critique || "" }
        : { ...this.work.steps[i], verdict: -model.verdict, critique: "" };
    const steps = this.work.steps.map((s, k) => (k === i ? step : s));
    this.lastChange = Date.now();
    this.change({ ...this.work, steps });
    if (i < steps.length - 1) this.move(1);
  }

  move(delta) {
    const n = this.work.steps.length;
    this.cursor = Math.max(0, Math.min(n - 1, this.cursor + delta));
    this.paint();
    this.showCursor();
  }

  submit() {
    if (this.data.conflict) {
      this.notice("warning", "Not submitted: first choose what to keep (see the message above).");
      return;
    }
    const left = missing(this.work, this.data.label_mode);
    if (left.length) {
      this.notice("warning", `Not submitted yet. Still needed: ${left.join("; ")}.`);
      return;
    }
    this.navigate("submit");
  }

  navigate(kind) {
    clearTimeout(this.timer);
    this.timer = null;
    this.seq += 1;
    this.store();
    this.leaving = { traceId: this.traceId, kind };
    const upcoming = this.data.upcoming;
    if ((kind === "submit" || kind === "skip") && upcoming && !this.inflight && !this.optimistic) {
      // Show the next trace at once (the server sent it in advance and holds it); the message goes right after
      // it is drawn, built from the work as it was at the key press.
      const message = this.message(kind);
      this.inflight = { kind, seq: this.seq, at: Date.now(), message };
      this.optimistic = { from: this.traceId };
      this.data = { ...this.data, ...upcoming, ack: -1, reset: 0, notice: null, conflict: null, upcoming: null };
      this.adopt(this.data);
      this.status.textContent = { submit: "Submitting the last trace…", skip: "Skipping…" }[kind];
      setTimeout(() => this.resend(), 0);
      return;
    }
    this.navigating = { kind, seq: this.seq };
    this.status.textContent = { submit: "Submitting…", skip: "Skipping…", back: "Going back…" }[kind];
    // One message at a time: after a draft on its way, this one follows as soon as it is confirmed.
    const go = () => {
      if (!this.navigating || this.navigating.seq !== this.seq) return;
      if (this.inflight) return setTimeout(go, 5);
      this.transmit(kind);
    };
    go();
  }

  restructure(kind, extra) {
    // Merge or split steps (before judging): the server checks nobody judged the trace, keeps the old steps as a
    // revision and answers with the new ones (same trace, reset bumped). One message at a time, like a submit.
    clearTimeout(this.timer);
    this.timer = null;
    this.seq += 1;
    this.store();
    this.navigating = { kind, seq: this.seq };
    this.status.textContent = kind === "merge" ? "Merging the steps…" : "Splitting the step…";
    const go = () => {
      if (!this.navigating || this.navigating.seq !== this.seq) return;
      if (this.inflight) return setTimeout(go, 5);
      this.inflight = { kind, seq: this.seq, at: Date.now(), message: { ...this.message(kind), ...extra } };
      this.resend();
    };
    go();
  }

  textOver(node, className, label, rows, help) {
    // A step's text in a box of its own, under the step: selection and caret work as everywhere, edits are
    // refused (not readOnly: Chromium moves no caret in a read-only box). One such box per step at a time.
    if (node.textBox) node.textBox.remove();
    const box = el("textarea", { className, rows, "aria-label": label });
    box.value = this.data.trace.texts[this.stepNodes.indexOf(node)];
    box.addEventListener("beforeinput", (e) => e.preventDefault());
    const wrap = el("div", { className: "rl-split-wrap" }, ...help.map((h) => el("p", { className: "rl-split-help", text: h })), box);
    node.textBox = wrap;
    node.box.append(wrap);
    const close = () => {
      wrap.remove();
      node.textBox = null;
      this.root.focus({ preventScroll: true });
    };
    return { box, close };
  }

  openSplit() {
    const i = this.cursor;
    const text = this.data.trace.texts && this.data.trace.texts[i];
    const node = this.stepNodes[i];
    if (typeof text !== "string") {
      this.notice("info", `Step ${i + 1} is not one text (it holds tool calls, results or images): it cannot be split.`);
      return;
    }
    // The step's own text, as stored: the caret in it is the cut.
    const { box, close } = this.textOver(node, "rl-split", `Split step ${i + 1}`, 8, [
      "Put the caret where the step should end, then Enter. Esc leaves.",
    ]);
    box.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        close();
      } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        e.stopPropagation();
        // The server counts in Unicode code points, the textarea in UTF-16 units.
        const at = Array.from(box.value.slice(0, box.selectionStart)).length;
        close();
        this.restructure("split", { step: i, at });
      } else if (!e.ctrlKey && !e.metaKey) {
        e.stopPropagation(); // single keys move the caret here, they do not judge
      }
    });
    box.focus({ preventScroll: true });
    box.setSelectionRange(0, 0);
  }

  // ---- finer than a step: wrong words (spans), what is missing, what a wrong step builds on ----

  fieldsOf(where) {
    // The texts spans may mark, exactly as stored: a step's one text, the parts of a step of several (a tool
    // call's arguments, a tool result, thinking), or the trace's answer (where === "answer").
    const t = this.data.trace;
    if (where === "answer") return t.answer_text ? [{ part: 0, field: "answer", label: "", text: t.answer_text }] : [];
    if (typeof (t.texts || [])[where] === "string") return [{ part: 0, field: "text", label: "", text: t.texts[where] }];
    return (t.fields && t.fields[where]) || [];
  }

  spansOf(where) {
    const step = where === "answer" ? null : where;
    return (this.work.spans || []).map((sp, k) => ({ ...sp, k })).filter((sp) => sp.step === step);
  }

  spanWords(sp) {
    const f = this.fieldsOf(sp.step === null ? "answer" : sp.step).find((x) => x.part === (sp.part || 0) && x.field === (sp.field || "text"));
    return f ? Array.from(f.text).slice(sp.start, sp.end).join("") : "";
  }

  colourOf(type) {
    return Math.max(0, this.data.taxonomy.indexOf(type)) % 6;
  }

  paintSpans(node, where) {
    // The marked words under the step (or the answer), as text (never markup): type, note, remove. Drawn anew
    // only when spans come or go or change type, so a note being typed keeps its box.
    const mine = this.spansOf(where);
    const shape = JSON.stringify(mine.map((sp) => [sp.k, sp.part, sp.field, sp.start, sp.end, sp.type]));
    if (!node.spanList) {
      node.spanList = el("div", { className: "rl-spans" });
      node.spanHost.append(node.spanList);
    }
    if (node.spanKey !== shape) {
      node.spanKey = shape;
      node.spanNotes = {};
      const several = this.fieldsOf(where).length > 1;
      node.spanList.replaceChildren(...mine.map((sp) => this.spanRow(node, sp, several)));
    }
    for (const sp of mine) {
      const box = node.spanNotes[sp.k];
      if (box && document.activeElement !== box && box.value !== (sp.note || "")) box.value = sp.note || "";
    }
    this.paintPlain(node, where, mine);
  }

  spanRow(node, sp, several) {
    const words = this.spanWords(sp);
    const label = several ? this.fieldsOf(sp.step === null ? "answer" : sp.step).find((f) => f.part === sp.part && f.field === sp.field) : null;
    const row = el("div", { className: "rl-span", "data-span": String(sp.k) });
    row.append(el("mark", { className: `rl-span-text c${this.colourOf(sp.type)}`, text: words }));
    if (label && label.label) row.append(el("span", { className: "rl-span-where", text: ` in ${label.label}` }));
    if (this.readOnly()) {
      row.append(el("span", { className: "rl-span-type", text: ` ${sp.type}${sp.note ? ": " + sp.note : ""}` }));
      return row;
    }
    const types = [...new Set([...this.data.taxonomy, sp.type])];
    const type = el("select", { className: "rl-span-kind", "aria-label": `Error type of "${words}"` }, ...types.map((t) => el("option", { value: t, text: t })));
    type.value = sp.type;
    type.addEventListener("change", () => this.editSpan(sp.k, { type: type.value }));
    const note = el("input", { type: "text", className: "rl-span-note", placeholder: "note (optional)", "aria-label": `Note on "${words}"` });
    note.value = sp.note || "";
    note.addEventListener("input", () => this.editSpan(sp.k, { note: note.value }, false));
    node.spanNotes[sp.k] = note;
    row.append(
      type,
      note,
      el("button", {
        type: "button",
        className: "rl-span-remove",
        text: "✕",
        title: "Remove this span",
        "aria-label": `Remove the span "${words}"`,
        onclick: () => this.removeSpan(sp.k),
      }),
    );
    return row;
  }

  editSpan(k, changes, paint = true) {
    const spans = this.work.spans.map((sp, j) => (j === k ? { ...sp, ...changes } : sp));
    this.lastChange = Date.now();
    this.change({ ...this.work, spans }, { paint });
  }

  removeSpan(k) {
    const spans = (this.work.spans || []).filter((_, j) => j !== k);
    this.change({ ...this.work, spans });
  }

  paintPlain(node, where, mine) {
    // Plain-text view (V, and while marking): the stored text with the spans highlighted in their type's colour,
    // built of text nodes; the rendered Markdown and LaTeX come back with V.
    const plain = Boolean(this.plain) && this.fieldsOf(where).length > 0;
    const sides = this.readOnly() && where !== "answer" ? (this.data.sides || []).filter((side) => side.steps[where].spans.length) : [];
    const shape = plain ? JSON.stringify(mine.map((sp) => [sp.part, sp.field, sp.start, sp.end, sp.type])) + sides.length : "";
    if (node.plainKey === shape && node.plainShown === plain) return;
    node.plainKey = shape;
    node.plainShown = plain;
    if (node.rendered) node.rendered.hidden = plain;
    if (!plain) {
      if (node.plainBox) node.plainBox.hidden = true;
      return;
    }
    if (!node.plainBox) {
      node.plainBox = el("div", { className: "rl-plain" });
      node.rendered.after(node.plainBox);
    }
    node.plainBox.hidden = false;
    const fields = this.fieldsOf(where);
    if (sides.length) {
      // Compare: each side's spans over the same text, one copy of the text per side that marked any.
      node.plainBox.replaceChildren(
        ...sides.map((side) =>
          el(
            "div",
            { className: "rl-plain-side" },
            el("span", { className: "rl-plain-label", text: side.name }),
            ...fields.map((f) =>
              this.highlighted(f.text, side.steps[where].spans.filter((sp) => sp.part === f.part && sp.field === f.field)),
            ),
          ),
        ),
      );
      return;
    }
    node.plainBox.replaceChildren(
      ...fields.map((f) =>
        el(
          "div",
          { className: "rl-plain-field" },
          f.label ? el("span", { className: "rl-plain-label", text: f.label }) : null,
          this.highlighted(f.text, mine.filter((sp) => sp.part === f.part && sp.field === f.field)),
        ),
      ),
    );
  }

  highlighted(text, spans) {
    // Code points, as spans count them; where spans overlap the earlier one colours the characters.
    const chars = Array.from(text);
    const owner = new Array(chars.length).fill(-1);
    spans.forEach((sp, j) => {
      for (let c = sp.start; c < Math.min(sp.end, chars.length); c++) if (owner[c] < 0) owner[c] = j;
    });
    const out = el("div", { className: "rl-plain-text" });
    let c = 0;
    while (c < chars.length) {
      let d = c;
      while (d < chars.length && owner[d] === owner[c]) d++;
      const piece = chars.slice(c, d).join("");
      if (owner[c] < 0) out.append(document.createTextNode(piece));
      else {
        const sp = spans[owner[c]];
        out.append(
          el("mark", {
            className: `c${this.colourOf(sp.type)}`,
            title: sp.note ? `${sp.type}: ${sp.note}` : sp.type,
            text: piece,
            onclick: () => this.focusSpan(sp),
          }),
        );
      }
      c = d;
    }
    return out;
  }

  focusSpan(sp) {
    // Click a highlight to edit its span: the row under the step, with its note box focused.
    const node = sp.step === null ? this.answerNode : this.stepNodes[sp.step];
    const box = node && node.spanNotes && node.spanNotes[sp.k];
    if (box) {
      box.focus({ preventScroll: true });
      box.scrollIntoView({ block: "nearest" });
    }
  }

  openMarks(where) {
    // Wrong words are chosen on the plain text (offsets exact): select with the mouse, or with Shift+arrows
    // (Ctrl+Shift+arrows by words), then 1-9 gives the selection that error type. A step of several parts gets a
    // box per text (Tab moves between them); the answer has its own.
    const fields = this.fieldsOf(where);
    const node = where === "answer" ? this.answerNode : this.stepNodes[where];
    const name = where === "answer" ? "the answer" : `step ${where + 1}`;
    if (!fields.length) {
      this.notice("info", `${name[0].toUpperCase()}${name.slice(1)} has no text to mark (only images).`);
      return;
    }
    if (!this.data.taxonomy.length) {
      this.notice("info", "This project has no error types to give marked words: add a taxonomy on the Admin page.");
      return;
    }
    if (!this.plain) {
      this.plain = true; // the highlights show as words are marked
      this.paint();
    }
    if (node.textBox) node.textBox.remove();
    const types = this.data.taxonomy.slice(0, 9).map((t, k) => `${k + 1} ${t}`).join(" · ");
    const boxes = fields.map((f) => {
      const box = el("textarea", { className: "rl-marks", rows: String(Math.min(8, 2 + Math.ceil(f.text.length / 90))), "aria-label": `Mark words of ${name}${f.label ? ", " + f.label : ""}` });
      box.value = f.text;
      box.addEventListener("beforeinput", (e) => e.preventDefault()); // read only, yet with a caret
      box.addEventListener("keydown", (e) => this.markKey(e, box, f, where, close));
      return f.label ? el("label", { className: "rl-field" }, el("span", { text: f.label }), box) : box;
    });
    const wrap = el("div", { className: "rl-split-wrap" }, el("p", { className: "rl-split-help", text: `Select words, then a number: ${types}. Esc leaves.` }), ...boxes);
    node.textBox = wrap;
    node.spanHost.before(wrap);
    function close() {
      wrap.remove();
      node.textBox = null;
    }
    const first = wrap.querySelector("textarea");
    first.focus({ preventScroll: true });
    first.setSelectionRange(0, 0);
  }

  markKey(e, box, f, where, close) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
      this.root.focus({ preventScroll: true });
      return;
    }
    const n = Number(e.key);
    if (!e.ctrlKey && !e.metaKey && n >= 1 && n <= Math.min(9, this.data.taxonomy.length)) {
      e.preventDefault();
      e.stopPropagation();
      if (box.selectionEnd <= box.selectionStart) {
        this.notice("info", "Select some words first (mouse, or Shift with the arrows).");
        return;
      }
      // Code points, as the server counts them; the text box counts UTF-16 units.
      const start = Array.from(box.value.slice(0, box.selectionStart)).length;
      const end = start + Array.from(box.value.slice(box.selectionStart, box.selectionEnd)).length;
      const step = where === "answer" ? null : where;
      const span = { step, part: f.part, field: f.field, start, end, type: this.data.taxonomy[n - 1], note: "" };
      this.lastChange = Date.now();
      this.change({ ...this.work, spans: [...(this.work.spans || []), span] });
      box.setSelectionRange(box.selectionEnd, box.selectionEnd);
      return;
    }
    if (e.key !== "Tab" && !e.ctrlKey && !e.metaKey) e.stopPropagation(); // keys select here, they do not judge
  }

  missingAt(position) {
    return (this.work.missing || []).map((m, k) => ({ ...m, k })).filter((m) => m.position === position);
  }

  addMissing(position) {
    // "Something is missing here", after the current step; its type first from the taxonomy, then a note.
    if (!this.data.taxonomy.length) {
      this.notice("info", "This project has no error types to give what is missing: add a taxonomy on the Admin page.");
      return;
    }
    const entry = { position, type: this.data.taxonomy[0], note: "" };
    this.lastChange = Date.now();
    this.change({ ...this.work, missing: [...(this.work.missing || []), entry] });
    const node = this.stepNodes[Math.max(0, position - 1)];
    const rows = node.missingList.querySelectorAll(".rl-missing-row");
    const kind = rows.length && rows[rows.length - 1].querySelector("select");
    if (kind) {
      kind.focus({ preventScroll: true });
      kind.scrollIntoView({ block: "nearest" });
    }
  }

  editMissing(k, changes, paint = true) {
    const missing = this.work.missing.map((m, j) => {
      if (j !== k) return m;
      const out = { ...m, ...changes };
      // Absent, not null, where nothing is pointed at: the stored shape.
      for (const key of ["passage", "sentence"]) if (out[key] === null || out[key] === undefined) delete out[key];
      return out;
    });
    this.lastChange = Date.now();
    this.change({ ...this.work, missing }, { paint });
  }

  paintMissing(node, i) {
    // What is missing after step i (and, on the first step, before it): type, note, passage and sentence.
    const mine = [...(i === 0 ? this.missingAt(0) : []), ...this.missingAt(i + 1)];
    const shape = JSON.stringify(mine.map((m) => [m.k, m.position, m.type, m.passage, m.sentence]));
    if (!node.missingList) {
      node.missingList = el("div", { className: "rl-missing" });
      node.box.append(node.missingList);
    }
    if (node.missingKey !== shape) {
      node.missingKey = shape;
      node.missingNotes = {};
      node.missingList.replaceChildren(...mine.map((m) => this.missingRow(node, m)));
    }
    for (const m of mine) {
      const box = node.missingNotes[m.k];
      if (box && document.activeElement !== box && box.value !== (m.note || "")) box.value = m.note || "";
    }
  }

  missingRow(node, m) {
    const where = m.position === 0 ? "before step 1" : `after step ${m.position}`;
    const row = el("div", { className: "rl-missing-row", "data-missing": String(m.k) }, el("span", { className: "rl-missing-label", text: `Missing ${where}:` }));
    if (this.readOnly()) {
      row.append(el("span", { text: ` ${m.type}${m.note ? ": " + m.note : ""}` }));
      return row;
    }
    const types = [...new Set([...this.data.taxonomy, m.type])];
    const kind = el("select", { "aria-label": `Type of what is missing ${where}` }, ...types.map((t) => el("option", { value: t, text: t })));
    kind.value = m.type;
    kind.addEventListener("change", () => this.editMissing(m.k, { type: kind.value }));
    const note = el("input", { type: "text", className: "rl-span-note", placeholder: "what is missing (a check, a tool call, a fact)", "aria-label": `What is missing ${where}` });
    note.value = m.note || "";
    note.addEventListener("input", () => this.editMissing(m.k, { note: note.value }, false));
    node.missingNotes[m.k] = note;
    row.append(kind, note);
    const passages = this.data.trace.passages || [];
    if (passages.length) row.append(...this.pointer(m, passages, where));
    row.append(
      el("button", {
        type: "button",
        className: "rl-span-remove",
        text: "✕",
        title: "Remove",
        "aria-label": `Remove what is missing ${where}`,
        onclick: () => this.change({ ...this.work, missing: this.work.missing.filter((_, j) => j !== m.k) }),
      }),
    );
    return row;
  }

  pointer(m, passages, where) {
    // The passage (numbered from 1) and sentence that hold the missing information, as Fine-Grained RLHF points.
    const known = passages.some((p) => p.number === m.passage);
    const passage = el(
      "select",
      { "aria-label": `Passage holding what is missing ${where}` },
      el("option", { value: "", text: "no passage" }),
      ...passages.map((p) => el("option", { value: String(p.number), text: `${p.number}. ${p.title}` })),
      !known && m.passage !== undefined ? el("option", { value: "kept", text: `as imported: ${JSON.stringify(m.passage)}` }) : null,
    );
    passage.value = known ? String(m.passage) : m.passage !== undefined ? "kept" : "";
    passage.addEventListener("change", () => {
      if (passage.value === "kept") return;
      this.editMissing(m.k, { passage: passage.value ? Number(passage.value) : null, sentence: null });
    });
    const chosen = passages.find((p) => p.number === m.passage);
    const ids = Array.isArray(m.sentence) ? m.sentence : m.sentence === undefined ? [] : [m.sentence];
    const sentence = el(
      "select",
      { "aria-label": `Sentence holding what is missing ${where}`, disabled: !chosen || !chosen.sentences.length },
      el("option", { value: "", text: "no sentence" }),
      ...(chosen ? chosen.sentences : []).map((x) => el("option", { value: String(x.id), text: `${x.id}. ${x.text.slice(0, 80)}` })),
    );
    sentence.value = ids.length === 1 ? String(ids[0]) : "";
    sentence.addEventListener("change", () => {
      // A list of ids, as the format keeps them.
      this.editMissing(m.k, { sentence: sentence.value ? [Number(sentence.value)] : null });
    });
    return [passage, sentence];
  }

  becauseChoices(i) {
    // A wrong step after the first error may build on an earlier wrong step; the first error is always original.
    const first = firstWrong(this.work);
    if (first === null || i <= first || this.work.steps[i].verdict !== WRONG) return [];
    const out = [];
    for (let k = 0; k < i; k++) if (this.work.steps[k].verdict === WRONG) out.push(k);
    return out;
  }

  cycleBecause(i) {
    // W: original error -> wrong because of the nearest earlier wrong step -> the one before -> ... -> original.
    const choices = this.becauseChoices(i).reverse();
    if (!choices.length) {
      this.notice("info", `Step ${i + 1} can be wrong because of an earlier step only when it and an earlier step are wrong.`);
      return;
    }
    const now = this.work.steps[i].because_of;
    const at = choices.indexOf(now);
    const next = at + 1 < choices.length ? choices[at + 1] : null;
    const steps = this.work.steps.map((s, k) => (k === i ? { ...s, because_of: next } : s));
    this.lastChange = Date.now();
    this.change({ ...this.work, steps });
  }

  focusCorrected() {
    const box = this.corrected && this.corrected.input;
    if (box) {
      box.focus({ preventScroll: true });
      box.scrollIntoView({ block: "nearest" });
    }
  }

  // ---- drawing ----

  renderEmpty(data) {
    this.root.replaceChildren(el("p", { className: "rl-empty", text: data.empty || "" }));
  }

  renderTrace(fresh = false) {
    const d = this.data;
    const t = d.trace;
    if (fresh || !this.stepNodes) {
      this.stepNodes = [];
      this.status = el("span", { className: "rl-status", role: "status" });
      this.noticeBox = el("div", { className: "rl-notice", role: "alert", hidden: true });
      this.conflictBox = el("div", { className: "rl-conflict", hidden: true });
      this.help = el("div", { className: "rl-help", hidden: true }, this.keyTable());
      const bar = el(
        "div",
        { className: "rl-bar" },
        el("h1", { className: "rl-title", text: `Trace #${t.number}` }),
        el("span", { className: "rl-caption", text: d.caption || "" }),
        el("span", { className: "rl-progress", text: d.progress || "" }),
        this.status,
        this.readOnly()
          ? el("span", { className: "rl-buttons" }, this.button("Plain text", "plain"), this.button("Keys", "help"))
          : el(
              "span",
              { className: "rl-buttons" },
              this.button("Submit", "submit", "Ctrl+Enter", "primary"),
              this.button("Skip", "skip"),
              this.button("Back", "back"),
              this.button("All correct", "all_correct"),
              this.button("Keys", "help"),
            ),
      );
      const steps = el("ol", { className: "rl-steps" });
      t.steps.forEach((html, i) => {
        const node = this.stepNode(html, i);
        this.stepNodes.push(node);
        steps.append(node.box);
      });
      this.summaryLine = el("p", { className: "rl-summary", hidden: this.readOnly() });
      this.wholeTrace = this.readOnly() ? el("div") : this.wholeTraceNode();
      this.root.replaceChildren(
        bar,
        this.noticeBox,
        this.conflictBox,
        this.help,
        t.context ? this.markup(t.context, "rl-context") : null,
        el("h3", { text: "Problem" }),
        this.markup(t.problem, "rl-problem"),
        steps,
        this.summaryLine,
        this.answerSection(t),
        this.wholeTrace,
      );
    }
    if (!this.readOnly()) this.fillWholeTrace();
    this.paint();
  }

  answerSection(t) {
    // The trace's answer, whose words can be marked like a step's (a button: the keys act on the current step).
    this.answerNode = null;
    if (!t.answer) return null;
    const rendered = this.markup(t.answer, "rl-answer");
    const spanHost = el("div", { className: "rl-span-host" });
    const box = el("section", { className: "rl-answer-box" });
    this.answerNode = { box, rendered, spanHost };
    const mark =
      this.readOnly() || this.data.label_mode === "check" || !t.answer_text
        ? null
        : el("button", { type: "button", className: "rl-button", text: "Mark words of the answer", onclick: () => this.openMarks("answer") });
    box.append(el("div", { className: "rl-row" }, el("h3", { text: "The trace's answer" }), mark), rendered, spanHost);
    return box;
  }

  markup(html, className) {
    // Built on the server (annotation/rendering): sanitised text, no script; images only as the project's own data URIs.
    const node = el("div", { className: `rl-markup ${className}` });
    node.innerHTML = html;
    // An image (only ever the project's own, as a data URI) opens large on a click and closes on the next.
    node.addEventListener("click", (e) => {
      if (e.target instanceof HTMLImageElement) e.target.classList.toggle("rl-zoomed");
    });
    return node;
  }

  button(label, action, shortcut, kind) {
    const key = shortcut || this.keyFor(action);
    return el("button", {
      type: "button",
      className: `rl-button ${kind || ""}`,
      "data-action": action,
      title: key ? `${label} (${key})` : label,
      text: key ? `${label} · ${key}` : label,
      onclick: () => this.press(action),
    });
  }

  keyFor(action) {
    const found = Object.entries(this.data.keys).find(([, a]) => a === action);
    return found ? found[0].toUpperCase() : "";
  }

  keyTable() {
    const rows = (this.data.key_help || []).map(([k, what]) => el("tr", {}, el("th", { text: k }), el("td", { text: what })));
    return el("table", {}, el("tbody", {}, ...rows));
  }

  stepNode(html, i) {
    const badges = el("span", { className: "rl-badges" });
    const verdicts = el("span", { className: "rl-verdicts", role: "group", "aria-label": `Verdict on step ${i + 1}` });
    const buttons = {};
    for (const [action, verdict, label] of [
      ["correct", CORRECT, "✓ Correct"],
      ["neutral", NEUTRAL, "○ Neutral"],
      ["wrong", WRONG, "✗ Wrong"],
    ]) {
      buttons[verdict] = el("button", {
        type: "button",
        className: `rl-verdict v${verdict}`,
        "aria-pressed": "false",
        text: label,
        onclick: () => this.press(action, i),
      });
      verdicts.append(buttons[verdict]);
    }
    const editor = el("div", { className: "rl-editor", hidden: true });
    const model = this.data.model_steps && this.data.model_steps[i];
    const rendered = this.markup(html, "rl-step-text");
    const spanHost = el("div", { className: "rl-span-host" });
    if (this.readOnly()) {
      const box = el(
        "li",
        { className: "rl-step rl-view", "data-step": String(i), onclick: (e) => this.clickStep(e, i) },
        el("div", { className: "rl-step-head" }, el("strong", { text: `Step ${i + 1}` }), badges),
        rendered,
        spanHost,
        el("div", { className: "rl-sides" }, ...this.data.sides.map((side) => this.sideNode(side, i))),
      );
      return { box, badges, buttons: {}, editor: el("div"), drawn: "view", rendered, spanHost };
    }
    const box = el(
      "li",
      { className: "rl-step", "data-step": String(i), onclick: (e) => this.clickStep(e, i) },
      el("div", { className: "rl-step-head" }, el("strong", { text: `Step ${i + 1}` }), badges, verdicts),
      rendered,
      spanHost,
      model ? this.modelNode(model) : null,
      editor,
    );
    return { box, badges, buttons, editor, drawn: null, rendered, spanHost };
  }

  sideNode(side, i) {
    const step = side.steps[i];
    return el(
      "div",
      { className: "rl-side" },
      el("span", { className: "rl-side-name", text: `${side.name}: ` }),
      el("span", { className: `rl-side-verdict ${step.verdict}`, text: `${step.verdict}${step.first ? " ◀ first error" : ""}${typeof step.because_of === "number" ? ` (because of step ${step.because_of + 1})` : ""}` }),
      step.critique ? this.markup(step.critique, "rl-model-critique") : null,
      step.tags.length ? el("span", { className: "rl-side-tags", text: `tags: ${step.tags.join(", ")}` }) : null,
      ...(step.spans || []).map((sp) =>
        // Text only: the span's words as the trace has them, its type and note.
        el(
          "span",
          { className: "rl-side-span" },
          el("mark", { text: sp.text }),
          el("span", { className: "rl-side-tags", text: ` ${sp.type}${sp.note ? ": " + sp.note : ""}` }),
        ),
      ),
      ...(step.missing || []).map((m) =>
        el("span", { className: "rl-side-missing", text: `missing after this step: ${m.type}${m.note ? ": " + m.note : ""}` }),
      ),
    );
  }

  modelNode(model) {
    const name = model.verdict === null ? "no verdict" : VERDICT_NAMES[model.verdict].toLowerCase();
    return el(
      "div",
      { className: "rl-model" },
      el("span", { className: "rl-model-label", text: "Model: " }),
      el("span", { className: `rl-badge model-${name.replace(" ", "-")}`, text: name }),
      model.html ? this.markup(model.html, "rl-model-critique") : null,
    );
  }

  clickStep(e, i) {
    if (e.target.closest("button, textarea, input, select, a")) return;
    if (this.cursor === i) return;
    this.cursor = i;
    this.paint();
  }

  paint() {
    const mode = this.data.label_mode;
    const grey = greyed(this.work, mode);
    const first = firstWrong(this.work);
    this.work.steps.forEach((step, i) => {
      const node = this.stepNodes[i];
      const current = i === this.cursor;
      node.box.classList.toggle("current", current);
      node.box.classList.toggle("greyed", grey.has(i));
      node.box.classList.toggle("first-error", i === first);
      node.box.dataset.verdict = step.verdict === null ? "" : VERDICT_NAMES[step.verdict].toLowerCase();
      if (current) node.box.setAttribute("aria-current", "step");
      else node.box.removeAttribute("aria-current");
      for (const [v, b] of Object.entries(node.buttons)) {
        b.setAttribute("aria-pressed", String(step.verdict === Number(v)));
        b.disabled = grey.has(i);
      }
      const marks = [];
      if (i === first) marks.push(["error", "First error"]);
      if (current) marks.push(["current", "Current"]);
      if (grey.has(i)) marks.push(["grey", "No rating needed"]);
      if (step.because_of !== null && step.because_of !== undefined && step.verdict === WRONG && i !== first) {
        marks.push(["because", `Wrong because of step ${step.because_of + 1}`]);
      }
      const key = JSON.stringify(marks);
      if (node.marks !== key) {
        node.marks = key;
        node.badges.replaceChildren(...marks.map(([c, t]) => el("span", { className: `rl-badge ${c}`, text: t })));
      }
      this.paintEditor(node, step, i, current && !grey.has(i) ? "open" : grey.has(i) ? "" : this.needsEditor(step));
      this.paintSpans(node, i);
      if (mode !== "check" && !this.readOnly()) this.paintMissing(node, i);
    });
    if (this.readOnly()) return;
    if (this.answerNode) this.paintSpans(this.answerNode, "answer");
    const s = summary(this.work, mode);
    this.summaryLine.textContent = s.text;
    this.summaryLine.classList.toggle("error", s.error);
    this.paintWholeTrace();
  }

  needsEditor(step) {
    return step.critique || step.tags.length || step.verdict === WRONG || step.verdict === NEUTRAL ? "open" : "";
  }

  paintEditor(node, step, i, open) {
    if (this.readOnly()) return;
    const wantCorrection = open && step.verdict === WRONG;
    const because = open && this.data.label_mode !== "check" ? this.becauseChoices(i) : [];
    const shape = `${open}|${wantCorrection}|${because.join(",")}`;
    if (node.drawn !== shape) {
      node.drawn = shape;
      node.editor.hidden = !open;
      if (!open) {
        node.editor.replaceChildren();
        node.fields = null;
        return;
      }
      const critique = this.textBox(`Critique of step ${i + 1}`, "What is wrong or doubtful here, and why", (v) =>
        this.stepText(i, "critique", v),
      );
      const fields = { critique };
      const parts = [critique.wrap];
      if (this.data.taxonomy.length) {
        fields.tags = this.tagRow(i);
        parts.push(fields.tags.wrap);
      }
      if (because.length) {
        const choose = el(
          "select",
          { "aria-label": `What step ${i + 1} is wrong because of` },
          el("option", { value: "", text: "An original error" }),
          ...because.map((k) => el("option", { value: String(k), text: `Wrong because it builds on step ${k + 1}` })),
        );
        choose.addEventListener("change", () => {
          const steps = this.work.steps.map((s, k) => (k === i ? { ...s, because_of: choose.value === "" ? null : Number(choose.value) } : s));
          this.lastChange = Date.now();
          this.change({ ...this.work, steps });
        });
        fields.because = choose;
        parts.push(el("label", { className: "rl-field" }, el("span", { text: "Error propagation (W)" }), choose));
      }
      if (wantCorrection) {
        fields.correction = this.textBox(`Correction of step ${i + 1} (optional)`, "What the step should have said", (v) =>
          this.stepText(i, "correction", v),
        );
        parts.push(fields.correction.wrap);
      }
      node.fields = fields;
      node.editor.replaceChildren(...parts);
    }
    if (!node.fields) return;
    for (const name of ["critique", "correction"]) {
      const f = node.fields[name];
      if (f && document.activeElement !== f.input && f.input.value !== step[name]) f.input.value = step[name] || "";
    }
    if (node.fields.because) {
      const value = step.because_of === null || step.because_of === undefined ? "" : String(step.because_of);
      if (node.fields.because.value !== value) node.fields.because.value = value;
    }
    if (node.fields.tags) {
      node.fields.tags.chips.forEach((chip) => chip.setAttribute("aria-pressed", String(step.tags.includes(chip.dataset.tag))));
    }
  }

  textBox(label, placeholder, onInput) {
    const input = el("textarea", { "aria-label": label, placeholder, rows: "2" });
    input.addEventListener("input", () => onInput(input.value));
    const wrap = el("label", { className: "rl-field" }, el("span", { text: label }), input);
    return { wrap, input };
  }

  tagRow(i) {
    const step = this.work.steps[i];
    const names = [...new Set([...this.data.taxonomy, ...step.tags])];
    const chips = names.map((name, k) =>
      el("button", {
        type: "button",
        className: "rl-chip",
        "data-tag": name,
        "aria-pressed": "false",
        text: k < 9 ? `${k + 1} ${name}` : name,
        onclick: () => this.toggleTag(i, name),
      }),
    );
    const wrap = el(
      "div",
      { className: "rl-tags", role: "group", "aria-label": `Error tags of step ${i + 1}`, tabindex: "-1" },
      el("span", { className: "rl-tags-label", text: "Error tags" }),
      ...chips,
    );
    return { wrap, chips };
  }

  stepText(i, field, value) {
    const steps = this.work.steps.map((s, k) => (k === i ? { ...s, [field]: value } : s));
    this.lastChange = Date.now();
    this.change({ ...this.work, steps }, { paint: false });
  }

  toggleTag(i, name) {
    const step = this.work.steps[i];
    const tags = step.tags.includes(name) ? step.tags.filter((t) => t !== name) : [...step.tags, name];
    const steps = this.work.steps.map((s, k) => (k === i ? { ...s, tags } : s));
    this.lastChange = Date.now();
    this.change({ ...this.work, steps });
  }

  openBox(name) {
    const node = this.stepNodes[this.cursor];
    const model = this.data.model_steps && this.data.model_steps[this.cursor];
    const step = this.work.steps[this.cursor];
    if (name === "critique" && model && model.critique && !step.critique && step.verdict === null) {
      // Editing a model's explanation starts from it.
      const steps = this.work.steps.map((s, k) => (k === this.cursor ? { ...s, critique: model.critique } : s));
      this.change({ ...this.work, steps });
    }
    if (greyed(this.work, this.data.label_mode).has(this.cursor)) {
      this.notice("info", `Step ${this.cursor + 1} needs no critique: it comes after the first error.`);
      return;
    }
    this.paint();
    const f = node.fields && node.fields[name];
    if (f) {
      f.input.focus({ preventScroll: true });
      this.showCursor();
    }
  }

  openTags() {
    if (!this.data.taxonomy.length) {
      this.notice("info", "This project has no error tags.");
      return;
    }
    this.openBox("critique");
    const node = this.stepNodes[this.cursor];
    if (!node.fields || !node.fields.tags) return;
    document.activeElement && document.activeElement.blur();
    this.tagMode = this.cursor;
    node.fields.tags.wrap.classList.add("active");
    node.fields.tags.wrap.focus({ preventScroll: true });
  }

  tagKey(e) {
    const node = this.stepNodes[this.tagMode];
    const leave = () => {
      if (node && node.fields && node.fields.tags) node.fields.tags.wrap.classList.remove("active");
      this.tagMode = undefined;
    };
    if (e.key === "Escape" || e.key.toLowerCase() === "t" || e.key === "Enter") {
      e.preventDefault();
      leave();
      this.root.focus({ preventScroll: true });
      return true;
    }
    if (/^[1-9]$/.test(e.key) && node && node.fields && node.fields.tags) {
      e.preventDefault();
      const chip = node.fields.tags.chips[Number(e.key) - 1];
      if (chip) this.toggleTag(this.tagMode, chip.dataset.tag);
      return true;
    }
    leave();
    return false;
  }

  wholeTraceNode() {
    if (this.data.label_mode === "check") return this.ratingNode();
    const answer = el("span", { className: "rl-answer-verdict", role: "group", "aria-label": "Final answer" });
    this.answerButtons = {};
    for (const [value, label] of [
      [true, "Answer correct"],
      [false, "Answer wrong"],
    ]) {
      const b = el("button", {
        type: "button",
        className: "rl-verdict",
        "aria-pressed": "false",
        text: label,
        onclick: () => {
          const now = this.work.solution_correct === value ? null : value;
          this.change({ ...this.work, solution_correct: now });
        },
      });
      this.answerButtons[String(value)] = b;
      answer.append(b);
    }
    this.finish = el(
      "select",
      { "aria-label": "Finish" },
      el("option", { value: "", text: "Judge the steps" }),
      el("option", { value: "bad_problem", text: "Bad problem" }),
      el("option", { value: "give_up", text: "Give up" }),
    );
    this.finish.addEventListener("change", () => {
      this.change({ ...this.work, finish: this.finish.value || null });
    });
    this.finishNote = this.textBox("Why (required)", "What is wrong with the problem, or why you stop", (v) => {
      this.lastChange = Date.now();
      this.change({ ...this.work, finish_note: v }, { paint: false });
    });
    this.overall = this.textBox("Overall critique", "What is wrong with the solution as a whole", (v) => {
      this.lastChange = Date.now();
      this.change({ ...this.work, critique: v }, { paint: false });
    });
    this.corrected = this.textBox("Corrected answer (optional, C)", "The whole answer as it should have been", (v) => {
      this.lastChange = Date.now();
      this.change({ ...this.work, corrected_answer: v }, { paint: false });
    });
    const answerText = this.data.trace.answer_text;
    const startFrom = answerText
      ? el("button", {
          type: "button",
          className: "rl-button",
          text: "Start from the trace's answer",
          onclick: () => {
            this.change({ ...this.work, corrected_answer: answerText }, { paint: false });
            this.fillWholeTrace();
            this.focusCorrected();
          },
        })
      : null;
    return el(
      "section",
      { className: "rl-whole" },
      el("h3", { text: "The whole trace" }),
      el("div", { className: "rl-row" }, answer, el("label", { className: "rl-field" }, el("span", { text: "Finish" }), this.finish)),
      this.finishNote.wrap,
      this.overall.wrap,
      this.corrected.wrap,
      startFrom,
    );
  }

  ratingNode() {
    const group = el("span", { className: "rl-answer-verdict", role: "group", "aria-label": "How good is the model's critique?" });
    this.ratingButtons = {};
    for (const [value, label, key] of [
      ["helpful", "Helpful", "G"],
      ["partly_helpful", "Partly helpful", "P"],
      ["misleading", "Misleading", "M"],
    ]) {
      const b = el("button", {
        type: "button",
        className: "rl-verdict",
        "aria-pressed": "false",
        text: `${label} · ${key}`,
        onclick: () => this.change({ ...this.work, rating: value }),
      });
      this.ratingButtons[value] = b;
      group.append(b);
    }
    this.overall = this.textBox("Replacement explanation (where none of the model's is good)", "What is actually wrong, and where", (v) => {
      this.lastChange = Date.now();
      this.change({ ...this.work, critique: v }, { paint: false });
    });
    const said = this.data.model_overall;
    // Beside the rating: what revising the solution with this critique did, where it was tried (plain text).
    const useful = this.data.usefulness ? el("span", { className: "rl-usefulness", text: this.data.usefulness }) : null;
    return el(
      "section",
      { className: "rl-whole" },
      el("h3", { text: "The critique as a whole" }),
      said ? el("details", {}, el("summary", { text: "The model's overall critique" }), this.markup(said, "rl-model-critique")) : null,
      el("div", { className: "rl-row" }, group, useful),
      this.overall.wrap,
    );
  }

  fillWholeTrace() {
    if (this.data.label_mode === "check") {
      const box = this.overall.input;
      if (document.activeElement !== box && box.value !== (this.work.critique || "")) box.value = this.work.critique || "";
      return;
    }
    for (const [box, value] of [
      [this.overall.input, this.work.critique],
      [this.finishNote.input, this.work.finish_note],
      [this.corrected.input, this.work.corrected_answer],
    ]) {
      if (document.activeElement !== box && box.value !== (value || "")) box.value = value || "";
    }
  }

  paintWholeTrace() {
    if (this.data.label_mode === "check") {
      for (const [value, b] of Object.entries(this.ratingButtons)) b.setAttribute("aria-pressed", String(this.work.rating === value));
      this.fillWholeTrace();
      return;
    }
    for (const [value, b] of Object.entries(this.answerButtons)) {
      b.setAttribute("aria-pressed", String(String(this.work.solution_correct) === value));
    }
    this.finish.value = this.work.finish || "";
    this.finishNote.wrap.hidden = !this.work.finish;
    this.fillWholeTrace();
  }

  focusField(name) {
    const box = name === "overall" ? this.overall.input : null;
    if (box) {
      box.focus({ preventScroll: true });
      box.scrollIntoView({ block: "nearest" });
    }
  }

  showCursor() {
    const node = this.stepNodes && this.stepNodes[this.cursor];
    if (node) node.box.scrollIntoView({ block: "nearest" });
  }

  renderMeta() {
    const d = this.data;
    if (d.notice && d.notice.id !== this.noticeId) {
      this.noticeId = d.notice.id;
      this.notice(d.notice.kind, d.notice.text);
    }
    if (this.readOnly()) this.status.textContent = "";
    else if (d.conflict) this.status.textContent = "Not saved: choose what to keep";
    else if (!this.inflight && !this.navigating) this.status.textContent = this.seq > this.acked ? "Not saved yet" : "Saved";
    if (d.conflict) {
      if (this.conflictBox.hidden || this.conflictBox.dataset.text !== d.conflict.text) {
        this.conflictBox.dataset.text = d.conflict.text;
        const newer = el("button", { type: "button", className: "rl-button", text: "Load the newer version" });
        newer.addEventListener("click", () => this.resolve("load_newer"));
        const mine = el("button", { type: "button", className: "rl-button", text: "Keep mine (the newer one stays in the history)" });
        mine.addEventListener("click", () => this.resolve("take_over"));
        this.conflictBox.replaceChildren(el("p", { text: d.conflict.text }), newer, mine);
        this.conflictBox.hidden = false;
        newer.focus({ preventScroll: true });
      }
    } else {
      this.conflictBox.hidden = true;
    }
  }

  resolve(kind) {
    this.conflictBox.hidden = true;
    if (kind === "take_over") this.seq += 1;
    this.transmit(kind);
  }

  offer(kept, when) {
    const restore = el("button", { type: "button", className: "rl-button", text: "Restore them" });
    const drop = el("button", { type: "button", className: "rl-button", text: "Discard them" });
    const box = el(
      "div",
      { className: "rl-conflict" },
      el("p", { text: `This browser kept changes to this trace from ${when} that the server never confirmed, and the trace has changed since.` }),
      restore,
      drop,
    );
    restore.addEventListener("click", () => {
      box.remove();
      this.change(kept.work);
      this.renderTrace();
    });
    drop.addEventListener("click", () => {
      box.remove();
      this.forgetStored();
    });
    this.root.insertBefore(box, this.conflictBox);
    restore.focus({ preventScroll: true });
  }

  notice(kind, text) {
    this.noticeBox.className = `rl-notice ${kind}`;
    this.noticeBox.textContent = text;
    this.noticeBox.hidden = false;
  }

  clearNotice() {
    if (this.noticeBox && !this.noticeBox.hidden) this.noticeBox.hidden = true;
  }
}

export default function (args) {
  const { data, parentElement, setTriggerValue } = args;
  let surface = CONTROLLERS.get(parentElement);
  if (!surface) {
    surface = new Surface(parentElement);
    CONTROLLERS.set(parentElement, surface);
  }
  surface.receive(data, (message) => setTriggerValue("send", message));
}
