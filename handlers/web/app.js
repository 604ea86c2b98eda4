// The page's views: executions (live list), one execution (timeline, input, output, live),
// topics and schedules. Hash routes (#/, #/executions/ID, #/topics, #/schedules) so the
// server serves one page; every request is relative, so the page works under any prefix.
"use strict";

(function () {
  const S = window.Stepline;
  const el = S.el;
  const LIST_PAGE = 50; // executions per request
  const LIST_POLL_MS = 2000;
  const FOLLOW_WAIT_S = 5; // long-poll wait of the lifecycle stream
  const TICK_MS = 500; // a running timeline is redrawn this often
  const STATUSES = ["pending", "running", "suspended", "completed", "failed", "cancelled",
                    "parked"];
  const FINISHED = new Set(["completed", "failed", "cancelled"]);

  // --- plumbing --------------------------------------------------------------------------

  let current = null; // the shown view's { stop() }

  async function api(path, options) {
    const response = await fetch(path, {
      headers: { Accept: "application/json" }, cache: "no-store", ...(options || {}),
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const message = (body && body.message) || `${response.status} ${response.statusText}`;
      throw Object.assign(new Error(message), { status: response.status });
    }
    return body;
  }

  function problem(error) {
    const box = document.getElementById("problem");
    if (!error) { box.hidden = true; return; }
    if (error.name === "AbortError") return;
    box.textContent = `API unreachable or refused: ${error.message}`;
    box.hidden = false;
  }

  // Call ``work`` now and every ``ms`` until the view stops; one call at a time.
  function every(ms, work, life) {
    let timer = null;
    const run = async () => {
      if (life.stopped) return;
      try { await work(); problem(null); } catch (error) { problem(error); }
      if (!life.stopped) timer = setTimeout(run, document.hidden ? ms * 5 : ms);
    };
    life.timers.push(() => clearTimeout(timer));
    run();
  }

  function lifetime() {
    const life = { stopped: false, timers: [], controller: new AbortController() };
    life.stop = () => {
      life.stopped = true;
      life.controller.abort();
      life.timers.forEach((clear) => clear());
    };
    return life;
  }

  const enc = encodeURIComponent;
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
  const ms = (iso) => (iso ? Date.parse(iso) : null);
  const json = (value) => JSON.stringify(value, null, 2);

  function took(execution, now) {
    const start = ms(execution.started_at) || ms(execution.created_at);
    const end = ms(execution.finished_at) || (FINISHED.has(execution.status) ? start : now);
    return S.duration(end - start);
  }

  function badge(status) {
    return el("span", { class: `badge ${status}`, "data-status": status }, status);
  }

  function execLink(id, text) {
    return el("a", { href: `#/executions/${enc(id)}`, title: id }, text || id);
  }

  function route() {
    const hash = location.hash.replace(/^#/, "") || "/";
    const [path, search] = hash.split("?");
    const params = new URLSearchParams(search || "");
    for (const link of document.querySelectorAll("nav a")) {
      const name = link.dataset.nav;
      link.classList.toggle("here", path === "/" ? name === "executions"
        : path.startsWith("/executions") ? name === "executions" : path === `/${name}`);
    }
    if (current) current.stop();
    const main = document.getElementById("view");
    const life = lifetime();
    current = life;
    const match = path.match(/^\/executions\/(.+)$/);
    if (match) executionView(main, decodeURIComponent(match[1]), life);
    else if (path === "/topics") topicsView(main, life);
    else if (path === "/schedules") schedulesView(main, life);
    else listView(main, params, life);
  }

  // --- executions ------------------------------------------------------------------------

  function listView(main, params, life) {
    const filter = { workflow_id: params.get("workflow") || "", status: params.get("status") || "" };
    const state = { rows: new Map(), next: null, more: [], seen: null };
    const workflowSelect = el("select", { id: "filter-workflow", "aria-label": "workflow" },
      el("option", { value: "" }, "all workflows"));
    const statusSelect = el("select", { id: "filter-status", "aria-label": "status" },
      el("option", { value: "" }, "any status"),
      STATUSES.map((s) => el("option", { value: s, selected: s === filter.status }, s)));
    const setFilter = () => {
      const query = new URLSearchParams();
      if (workflowSelect.value) query.set("workflow", workflowSelect.value);
      if (statusSelect.value) query.set("status", statusSelect.value);
      location.hash = `#/?${query}`;
    };
    workflowSelect.addEventListener("change", setFilter);
    statusSelect.addEventListener("change", setFilter);
    const count = el("span", { class: "count" });
    const body = el("tbody", { id: "executions" });
    const moreButton = el("button", { type: "button", class: "more", hidden: true }, "older…");
    main.replaceChildren(
      el("div", { class: "toolbar" }, el("h1", {}, "Executions"), workflowSelect, statusSelect,
         count, el("span", { class: "live-dot", title: "updated every 2 s" }, "live")),
      el("table", { class: "list" },
        el("thead", {}, el("tr", {}, ["Workflow", "Status", "Started", "Duration", "Execution"]
          .map((h) => el("th", {}, h)))),
        body),
      moreButton);
    api("workflows", { signal: life.controller.signal }).then((answer) => {
      for (const wf of answer.workflows) {
        workflowSelect.append(el("option", { value: wf.id, selected: wf.id === filter.workflow_id },
                                 wf.id));
      }
    }).catch(problem);

    const query = (next) => {
      const q = new URLSearchParams({ limit: String(LIST_PAGE) });
      if (filter.workflow_id) q.set("workflow_id", filter.workflow_id);
      if (filter.status) q.set("status", filter.status);
      if (next) q.set("next", next);
      return `executions?${q}`;
    };
    const draw = () => {
      const now = Date.now();
      const rows = [...state.rows.values()].sort((a, b) =>
        b.created_at.localeCompare(a.created_at) || b.execution_id.localeCompare(a.execution_id));
      body.replaceChildren(...rows.map((x) => el("tr", {
        class: state.seen && !state.seen.has(x.execution_id) ? "fresh" : "",
        "data-execution": x.execution_id, "data-workflow": x.workflow_id,
      },
        el("td", {}, execLink(x.execution_id, x.workflow_id),
           x.parent_execution_id ? el("span", { class: "child-mark", title: "a child" }, "child")
                                 : null),
        el("td", {}, badge(x.status)),
        el("td", { title: x.created_at }, when(x.started_at || x.created_at)),
        el("td", { class: "num" }, took(x, now)),
        el("td", { class: "id" }, x.execution_id))));
      if (!rows.length) {
        body.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "empty" },
          "No executions yet. Start one: stepline invoke WORKFLOW '{...}'")));
      }
      count.textContent = `${rows.length}${state.next ? "+" : ""} shown`;
      if (state.seen === null) performance.mark("stepline:list-drawn"); // benchmarks/ui.py
      moreButton.hidden = !state.next;
    };
    const refresh = async () => {
      const page = await api(query(null), { signal: life.controller.signal });
      const first = state.seen === null;
      if (first) state.next = page.next;
      for (const x of page.executions) state.rows.set(x.execution_id, x);
      draw();
      state.seen = new Set(state.rows.keys()); // highlighted for one refresh
    };
    moreButton.addEventListener("click", async () => {
      try {
        const page = await api(query(state.next), { signal: life.controller.signal });
        for (const x of page.executions) { state.rows.set(x.execution_id, x); state.seen.add(x.execution_id); }
        state.next = page.next;
        draw();
      } catch (error) { problem(error); }
    });
    every(LIST_POLL_MS, refresh, life);
  }

  function valueBlock(title, value, id) {
    const shown = value && typeof value === "object" && value.shortened
      ? `${value.preview}\n… ${value.bytes} bytes: GET ${value.path}` : json(value);
    return el("section", { class: "value" }, el("h2", {}, title),
              el("pre", { id }, value === undefined ? "" : shown));
  }

  function executionView(main, id, life) {
    const view = { model: S.buildModel([]), collapsed: new Set(), opened: new Set(),
                   details: new Map(), toggle: null, open: null, need: null };
    const asked = new Set();
    const events = [];
    let detail = null;
    let after = null;
    let done = false;
    const head = el("div", { class: "exec-head" });
    const timeline = el("div", { class: "timeline", id: "timeline" });
    const values = el("div", { class: "values" });
    const log = el("ol", { class: "event-log", id: "event-log" });
    const following = el("span", { class: "following", id: "following" }, "loading…");
    main.replaceChildren(head,
      el("section", { class: "card" }, el("div", { class: "section-head" },
        el("h2", {}, "Timeline"), following), timeline),
      values,
      el("details", { class: "card" }, el("summary", {}, "Lifecycle events"), log));
    view.toggle = (key) => {
      if (view.collapsed.has(key)) view.collapsed.delete(key); else view.collapsed.add(key);
      draw();
    };

    view.open = (key) => {
      if (view.opened.has(key)) view.opened.delete(key); else view.opened.add(key);
      asked.clear(); // a fresh look at the outputs
      draw();
    };
    view.need = (executionId) => {  // one execution's steps and their outputs
      if (asked.has(executionId)) return;
      asked.add(executionId);
      api(`executions/${enc(executionId)}`, { signal: life.controller.signal }).then((d) => {
        view.details.set(executionId, d);
        draw();
      }).catch(problem);
    };
    const action = (name) => async () => {
      try {
        detail = { ...detail, ...(await api(`executions/${enc(id)}/${name}`,
                                            { method: "POST", body: "{}" })) };
        problem(null);
        drawHead();
        follow();
      } catch (error) { problem(error); }
    };
    function drawHead() {
      if (!detail) return;
      const d = detail;
      const buttons = [];
      if (!FINISHED.has(d.status) && d.status !== "parked") {
        buttons.push(el("button", { type: "button", id: "cancel", class: "danger",
                                    onclick: action("cancel") }, "Cancel"));
      }
      if (d.status === "parked") {
        buttons.push(el("button", { type: "button", id: "resume", onclick: action("resume") },
                        "Resume"));
      }
      head.replaceChildren(
        el("div", { class: "title" }, el("h1", {}, d.workflow_id), badge(d.status),
           d.cancel_requested && !FINISHED.has(d.status) ? el("span", { class: "note" },
             "cancel requested") : null,
           el("span", { class: "actions" }, buttons)),
        el("dl", { class: "facts" },
          el("dt", {}, "execution"), el("dd", { class: "id", id: "execution-id" }, d.execution_id),
          el("dt", {}, "started"), el("dd", {}, when(d.started_at || d.created_at)),
          el("dt", {}, "duration"), el("dd", {}, took(d, Date.now())),
          el("dt", {}, "attempt"), el("dd", {}, String(d.attempt)),
          d.parent_execution_id ? [el("dt", {}, "parent"),
                                   el("dd", {}, execLink(d.parent_execution_id))] : null));
      values.replaceChildren(valueBlock("Input", d.input, "input"),
        d.error ? el("section", { class: "value" }, el("h2", {}, "Error"),
                     S.errorBlock(d.error, "open"))
                : valueBlock("Output", FINISHED.has(d.status) ? d.output : undefined, "output"));
      const open = values.querySelector("details.error.open");
      if (open) open.open = true;
    }
    function draw() {
      S.renderTimeline(timeline, view, id, Date.now());
      if (events.length && !performance.getEntriesByName("stepline:timeline-drawn").length) {
        performance.mark("stepline:timeline-drawn"); // benchmarks/ui.py
      }
      following.textContent = done ? `finished · ${events.length} events`
        : `following live · ${events.length} events`;
      following.classList.toggle("live", !done);
    }
    function logEvents(batch) {
      log.append(...batch.map((e) => el("li", {},
        el("span", { class: "seq" }, `#${e.sequence_id}`), " ",
        el("span", { class: `etype ${e.event_type}` }, e.event_type), " ",
        (e.data && e.data._metadata && e.data._metadata.workflow_id) || "", " ",
        (e.data && e.data.step_key) || "", " ",
        el("time", {}, e.created_at))));
    }
    const loadDetail = async () => {
      detail = await api(`executions/${enc(id)}?steps=false`, { signal: life.controller.signal });
      view.status = FINISHED.has(detail.status) ? null : detail.status;
      drawHead();
    };
    let polling = false;
    async function follow() {  // the lifecycle stream, long-polled until it is over
      if (polling) return;
      polling = true;
      done = false;
      let quiet = 0;
      while (!life.stopped && !done) {
        try {
          const q = new URLSearchParams({ wait: String(FOLLOW_WAIT_S) });
          if (after !== null) q.set("after", String(after));
          const page = await api(`executions/${enc(id)}/events?${q}`,
                                 { signal: life.controller.signal });
          if (page.events.length) {
            asked.clear(); // step outputs may have changed
            events.push(...page.events);
            view.model = S.buildModel(events);
            logEvents(page.events);
            after = page.last_sequence_id;
          }
          done = page.done;
          if (page.events.length || done || ++quiet % 3 === 0) await loadDetail();
          problem(null);
          draw();
        } catch (error) {
          if (life.stopped) break;
          problem(error);
          if (error.status === 404) { timeline.replaceChildren(el("p", { class: "empty" },
            `No execution ${id}.`)); break; }
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      }
      polling = false;
    }
    const tick = setInterval(() => {
      if (!done && view.model.count) draw();
      if (detail && !FINISHED.has(detail.status)) {
        const cell = head.querySelector("dl.facts dd:nth-of-type(3)");
        if (cell) cell.textContent = took(detail, Date.now());
      }
    }, TICK_MS);
    life.timers.push(() => clearInterval(tick));
    loadDetail().then(follow).catch((error) => {
      problem(error);
      head.replaceChildren(el("h1", {}, "Execution not found"),
                           el("p", { class: "id" }, id));
      following.textContent = "";
    });
  }

  // --- topics and schedules --------------------------------------------------------------

  function topicsView(main, life) {
    const list = el("div", { id: "topics", class: "cards" });
    main.replaceChildren(el("div", { class: "toolbar" }, el("h1", {}, "Topics"),
      el("span", { class: "live-dot" }, "live")), list);
    every(3000, async () => {
      const answer = await api("topics/recent?limit=5", { signal: life.controller.signal });
      list.replaceChildren(...answer.topics.map((t) => {
        return el("section", { class: "card topic", "data-topic": t.topic },
          el("div", { class: "section-head" }, el("h2", {}, t.topic),
             el("span", { class: "count" }, `${t.last_sequence_id} event${t.last_sequence_id === 1 ? "" : "s"}`)),
          el("p", {}, "subscribers: ", t.subscribers.length ? t.subscribers.join(", ") : "none"),
          t.waiting.length ? el("p", {}, "waiting: ",
            t.waiting.map((w, n) => [n ? ", " : "", execLink(w.execution_id,
              `${w.execution_id.slice(0, 8)} (${w.step_key})`)])) : null,
          t.events.length ? el("table", { class: "list small" },
            el("thead", {}, el("tr", {}, ["#", "type", "published", "data"].map((h) =>
              el("th", {}, h)))),
            el("tbody", {}, t.events.map((e) => el("tr", {},
              el("td", { class: "num" }, String(e.sequence_id)),
              el("td", {}, e.event_type || ""),
              el("td", {}, when(e.created_at)),
              el("td", {}, el("code", {}, JSON.stringify(e.data)))))))
            : el("p", { class: "empty" }, "no events yet"));
      }));
      if (!answer.topics.length) list.replaceChildren(el("p", { class: "empty" }, "No topics."));
    }, life);
  }

  function untilText(iso, now) {
    const left = Date.parse(iso) - now;
    return left <= 0 ? "due" : `in ${S.duration(left)}`;
  }

  function schedulesView(main, life) {
    const body = el("tbody", { id: "schedules" });
    main.replaceChildren(el("div", { class: "toolbar" }, el("h1", {}, "Schedules"),
      el("span", { class: "live-dot" }, "live")),
      el("table", { class: "list" }, el("thead", {}, el("tr", {},
        ["Workflow", "Key", "Cron", "State", "Next fire times", "Last run"].map((h) =>
          el("th", {}, h)))), body));
    every(5000, async () => {
      const answer = await api("schedules", { signal: life.controller.signal });
      const now = Date.now();
      body.replaceChildren(...answer.schedules.map((s) => el("tr", {
        "data-schedule": s.schedule_id },
        el("td", {}, s.workflow_id), el("td", {}, s.key),
        el("td", {}, el("code", {}, s.cron), " ", el("span", { class: "muted" }, s.timezone)),
        el("td", {}, badge(s.state)),
        el("td", {}, el("ul", { class: "times" }, s.next.map((t, n) => el("li", {},
          el("time", { datetime: t }, when(t)), n === 0 ? el("span", { class: "muted" },
            ` ${untilText(t, now)}`) : null)))),
        el("td", {}, s.last_execution_id ? execLink(s.last_execution_id, when(s.last_timestamp))
                                         : el("span", { class: "muted" }, "never")))));
      if (!answer.schedules.length) {
        body.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No schedules.")));
      }
    }, life);
  }

  window.addEventListener("hashchange", route);
  route();
})();
