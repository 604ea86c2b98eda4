// The timeline of one execution: a model built from its lifecycle stream (the envelopes of
// GET /executions/{id}/events, children nested), drawn as bars on a time axis.
// No framework: plain DOM built with textContent, so no value from a workflow is ever HTML.
"use strict";

(function () {
  const S = (window.Stepline = window.Stepline || {});

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  S.el = el;

  function duration(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return "";
    if (ms < 1) return `${ms.toFixed(2)} ms`;
    if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
    const h = Math.floor(m / 60);
    return h < 48 ? `${h} h ${m - h * 60} min` : `${Math.round(h / 24)} d`;
  }
  S.duration = duration;

  // --- the model ------------------------------------------------------------------------

  function newExecution(meta, at) {
    return {
      id: meta.execution_id,
      workflow: meta.workflow_id,
      parent: meta.parent_execution_id,
      start: at,
      end: null,
      status: "running",
      error: null,
      items: [], // steps and messages, in the order they started
      steps: new Map(),
      suspends: [],
    };
  }

  function attempt(step, number, at) {
    const found = step.attempts.find((a) => a.attempt === number);
    if (found) return found;
    const open = step.attempts.filter((a) => a.end === null);
    if (number === undefined && open.length) return open[open.length - 1];
    const made = { attempt: number || step.attempts.length + 1, start: at, end: null,
                   status: "running", error: null };
    step.attempts.push(made);
    return made;
  }

  function stepOf(exec, data, at) {
    let step = exec.steps.get(data.step_key);
    if (!step) {
      step = { kind: "step", key: data.step_key, type: data.step_type || "", attempts: [],
               status: "running", error: null, children: [], start: at, execution: exec.id };
      exec.steps.set(step.key, step);
      exec.items.push(step);
    }
    if (data.step_type) step.type = data.step_type;
    return step;
  }

  // A child's workflow_start lands under the parent's invoke step still open, if its start
  // is in the stream; else the child takes its own place among the parent's steps.
  function adopt(parent, child) {
    const open = parent.items.filter((i) => i.kind === "step" && i.type.includes("invoke") &&
                                           (i.status === "running" || i.status === "retrying"));
    const step = open[open.length - 1];
    if (step) step.children.push(child.id);
    else parent.items.push({ kind: "child", id: child.id, start: child.start });
  }

  function finishStep(step, data, at, status) {
    const a = attempt(step, data.attempt, at);
    a.end = at;
    a.status = status;
    if (data.runtime_us !== undefined && a.start === at) a.start = at - data.runtime_us / 1000;
    if (data.error) a.error = data.error;
    step.status = status === "retried" ? "retrying" : status;
    step.error = status === "failed" ? data.error || null : step.error;
  }

  const WORKFLOW_END = { workflow_finish: "completed", workflow_fail: "failed",
                         workflow_cancel: "cancelled" };

  function apply(model, envelope) {
    const data = envelope.data || {};
    const meta = data._metadata || {};
    const at = Date.parse(envelope.created_at);
    let exec = model.executions.get(meta.execution_id);
    if (!exec) {
      exec = newExecution(meta, at);
      model.executions.set(exec.id, exec);
      const parent = model.executions.get(exec.parent);
      if (parent) adopt(parent, exec);
    }
    const type = envelope.event_type;
    if (type === "workflow_start") {
      exec.start = Math.min(exec.start, at);
      exec.status = "running";
    } else if (type in WORKFLOW_END) {
      exec.end = at;
      exec.status = WORKFLOW_END[type];
      exec.error = data.error || null;
    } else if (type === "workflow_suspend") {
      exec.suspends.push({ start: at, end: null });
      exec.status = "suspended";
    } else if (type === "workflow_resume") {
      const open = exec.suspends.find((s) => s.end === null);
      if (open) open.end = at;
      exec.status = "running";
    } else if (type === "step_start") {
      const step = stepOf(exec, data, at);
      const a = attempt(step, data.attempt, at);
      a.start = at;
      step.status = "running";
    } else if (type === "step_finish") {
      finishStep(stepOf(exec, data, at), data, at, "completed");
    } else if (type === "step_error") {
      finishStep(stepOf(exec, data, at), data, at, "failed");
    } else if (type === "step_retry") {
      finishStep(stepOf(exec, data, at), data, at, "retried");
    } else if (type === "workflow_message") {
      exec.items.push({ kind: "message", key: data.step_key, message: data.message || "",
                        attributes: data.attributes, start: at, execution: exec.id });
    }
    model.last = Math.max(model.last, at);
    model.count += 1;
  }

  function buildModel(events) {
    const model = { executions: new Map(), last: 0, count: 0 };
    for (const envelope of events) apply(model, envelope);
    return model;
  }
  S.buildModel = buildModel;

  // --- drawing ---------------------------------------------------------------------------

  function niceStep(span) {
    const rough = span / 6;
    const power = Math.pow(10, Math.floor(Math.log10(Math.max(rough, 0.001))));
    for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
    return 10 * power;
  }

  function place(node, from, to, frame) {
    const span = frame.end - frame.start || 1;
    const left = ((from - frame.start) / span) * 100;
    const width = ((Math.max(to, from) - from) / span) * 100;
    node.style.left = `${Math.max(0, Math.min(left, 100))}%`;
    node.style.width = `${Math.max(width, 0)}%`;
    return node;
  }

  function axis(frame) {
    const span = frame.end - frame.start;
    const step = niceStep(span);
    const ticks = [];
    for (let t = 0; t <= span + 1e-9; t += step) {
      const at = (t / (span || 1)) * 100;
      const tick = el("span", { class: at > 94 ? "tick end" : "tick" }, t === 0 ? "0" : duration(t));
      tick.style.left = `${at}%`;
      ticks.push(tick);
    }
    return el("div", { class: "row axis" }, el("div", { class: "label" }, "time"),
              el("div", { class: "track" }, ticks));
  }

  function errorBlock(error, cls) {
    if (!error) return null;
    return el("details", { class: `error ${cls || ""}` },
      el("summary", {}, el("strong", {}, error.type || "Error"), ": ", error.message || ""),
      error.traceback ? el("pre", { class: "traceback" }, error.traceback) : null);
  }
  S.errorBlock = errorBlock;

  const KIND = { wait: "wait", wait_for_event: "event", publish_event: "event", emit: "message" };

  function stepRow(step, depth, frame, view) {
    const ends = step.attempts.map((a) => (a.end === null ? frame.now : a.end));
    const last = step.attempts[step.attempts.length - 1];
    const took = last ? Math.max(...ends) - step.attempts[0].start : null;
    const kind = KIND[step.type] || (step.type.includes("invoke") ? "child" : "run");
    const bars = step.attempts.map((a) => {
      const bar = el("div", {
        class: `bar ${a.status} kind-${kind}`,
        title: `${step.key} attempt ${a.attempt}: ${a.status}` +
               (a.end !== null ? `, ${duration(a.end - a.start)}` : " (running)"),
      });
      return place(bar, a.start, a.end === null ? frame.now : a.end, frame);
    });
    const toggle = el("span", { class: "toggle-space" });
    const retries = step.attempts.length > 1 ? `${step.attempts.length} attempts` : "";
    const label = el("div", { class: "label" },
      toggle,
      el("span", { class: "name", title: step.key }, step.key),
      el("span", { class: `type kind-${kind}` }, step.type),
      retries ? el("span", { class: "retries" }, retries) : null,
      el("span", { class: "took" }, last && last.end !== null ? duration(took) : "…"));
    label.style.paddingLeft = `${depth * 18 + 6}px`;
    const id = `${step.execution}/${step.key}`;
    label.classList.add("clickable");
    label.title = "show this step's attempts and output";
    label.addEventListener("click", () => view.open(id));
    const row = el("div", {
      class: `row step status-${step.status}`, "data-key": step.key,
      "data-execution": step.execution, "data-status": step.status, "data-depth": depth,
    }, label, el("div", { class: "track" }, bars));
    const out = [row];
    const failed = step.attempts.filter((a) => a.error);
    const shown = view.opened.has(id) || (kind === "event" && step.status === "completed");
    if (shown) out.push(stepDetail(step, kind, depth, view));
    if (failed.length) {
      const notes = failed.map((a) => errorBlock(a.error, a.status === "retried" ? "retried" : ""));
      const note = el("div", { class: "row note" }, el("div", { class: "notes" }, notes));
      note.firstChild.style.marginLeft = `${depth * 18 + 30}px`;
      out.push(note);
    }
    for (const id of step.children) out.push(...executionRows(id, depth + 1, frame, view));
    return out;
  }

  // The step's attempts and its output (an event step's output is the event it published or
  // received), from GET /executions/{id} of its execution, fetched on first need.
  function stepDetail(step, kind, depth, view) {
    const detail = view.details.get(step.execution);
    view.need(step.execution); // once per batch of events (the view remembers)
    const record = detail && (detail.steps || []).find((s) => s.key === step.key);
    const attempts = step.attempts.map((a) => el("li", {},
      `attempt ${a.attempt}: ${a.status}`, a.end !== null ? `, ${duration(a.end - a.start)}` : "",
      ` (started ${new Date(a.start).toLocaleTimeString()})`));
    const what = step.type === "wait_for_event" ? "event received"
      : step.type === "publish_event" ? "event published" : "output";
    const out = record && record.output;
    const value = !record ? (detail ? "not finished" : "loading…")
      : kind === "event" && out && out.topic ? `${out.topic} #${out.sequence_id}` +
        (out.data !== undefined ? `  ${JSON.stringify(out.data)}` : "")
      : record.output && record.output.shortened ? `${record.output.preview}\n… GET ${record.output.path}`
      : JSON.stringify(record.output, null, 2);
    const box = el("div", { class: `step-detail kind-${kind}`, "data-key": step.key },
      kind === "event" ? null : el("ul", { class: "attempts" }, attempts),
      el(kind === "event" ? "span" : "div", { class: "what" }, what, " "),
      el(kind === "event" ? "code" : "pre", { class: "output" }, value));
    box.style.marginLeft = `${depth * 18 + 30}px`;
    return el("div", { class: "row note" }, box);
  }

  function messageRow(item, depth, frame) {
    const mark = place(el("div", { class: "mark", title: item.message }), item.start, item.start,
                       frame);
    const label = el("div", { class: "label" }, el("span", { class: "toggle-space" }),
      el("span", { class: "name message" }, item.message),
      el("span", { class: "type kind-message" }, "message"));
    label.style.paddingLeft = `${depth * 18 + 6}px`;
    return el("div", { class: "row message", "data-key": item.key || "" }, label,
              el("div", { class: "track" }, mark));
  }

  function executionRows(id, depth, frame, view) {
    const exec = view.model.executions.get(id);
    if (!exec) return [];
    const end = exec.end === null ? frame.now : exec.end;
    // the root's record may know more than its stream so far (suspended, cancel requested)
    const status = depth === 0 && view.status && exec.end === null ? view.status : exec.status;
    const bar = place(el("div", { class: `bar workflow ${status}` }), exec.start, end, frame);
    const gaps = exec.suspends.map((s) =>
      place(el("div", { class: "gap", title: "suspended: holding no compute" }), s.start,
            s.end === null ? frame.now : s.end, frame));
    const link = el("a", { href: `#/executions/${encodeURIComponent(exec.id)}`,
                           class: "name workflow-name", title: exec.id }, exec.workflow);
    const open = depth === 0 || !view.collapsed.has(exec.id);
    const toggle = depth === 0 ? el("span", { class: "toggle-space" }) : el("button", {
      class: "toggle", type: "button", "aria-expanded": String(open),
      title: open ? "collapse this child workflow" : "expand this child workflow",
      onclick: () => view.toggle(exec.id),
    }, open ? "▾" : "▸");
    const label = el("div", { class: "label" }, toggle, link,
      el("span", { class: `badge ${status}` }, status),
      el("span", { class: "took" }, exec.end === null ? "…" : duration(end - exec.start)));
    label.style.paddingLeft = `${depth * 18 + 6}px`;
    const rows = [el("div", {
      class: `row workflow status-${status}`, "data-execution": exec.id,
      "data-workflow": exec.workflow, "data-depth": depth, "data-status": status,
    }, label, el("div", { class: "track" }, bar, gaps))];
    if (exec.error) {
      const note = el("div", { class: "row note" }, el("div", { class: "notes" },
                      errorBlock(exec.error, "")));
      note.firstChild.style.marginLeft = `${depth * 18 + 30}px`;
      rows.push(note);
    }
    if (!open) return rows;
    for (const item of exec.items) {
      if (item.kind === "step") rows.push(...stepRow(item, depth + 1, frame, view));
      else if (item.kind === "child") rows.push(...executionRows(item.id, depth + 1, frame, view));
      else rows.push(messageRow(item, depth + 1, frame));
    }
    return rows;
  }

  // Draw the timeline of ``rootId`` into ``container``. ``view.collapsed`` holds the child
  // executions shown folded; ``view.toggle(id)`` folds or unfolds one and redraws.
  function renderTimeline(container, view, rootId, now) {
    const root = view.model.executions.get(rootId);
    if (!root) {
      container.replaceChildren(el("p", { class: "empty" }, "No lifecycle events yet."));
      return;
    }
    let start = root.start;
    for (const exec of view.model.executions.values()) start = Math.min(start, exec.start);
    const running = [...view.model.executions.values()].some((e) => e.end === null);
    const end = Math.max(running ? now : view.model.last, view.model.last, start + 1);
    const frame = { start, end, now: Math.max(now, view.model.last) };
    container.replaceChildren(axis(frame), ...executionRows(rootId, 0, frame, view));
  }
  S.renderTimeline = renderTimeline;
})();
