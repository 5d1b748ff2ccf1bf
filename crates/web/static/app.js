// Drifta's only script: progressive enhancement. Every page works without it.
"use strict";
document.documentElement.classList.add("js");

// Selects marked data-autosubmit (municipality switcher, language) submit on change,
// so their "Go" buttons are only needed without JavaScript.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.submit();
  }
});

// Keyboard-first navigation: "g" then the key in a link's data-key (g d: dashboard,
// g u: users, g a: audit log, g p: account, g i: inventory). Ignored while typing in a field.
let awaitingTarget = false;
document.addEventListener("keydown", (event) => {
  const t = event.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (awaitingTarget) {
    awaitingTarget = false;
    const link = document.querySelector(`a[data-key="${CSS.escape(event.key)}"]`);
    if (link) { event.preventDefault(); link.click(); }
    return;
  }
  if (event.key === "g") {
    awaitingTarget = true;
    setTimeout(() => { awaitingTarget = false; }, 1500);
  }
});

// One-key shortcuts on links marked data-shortcut (n: log a call), from any page.
document.addEventListener("keydown", (event) => {
  const t = event.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (event.ctrlKey || event.metaKey || event.altKey || awaitingTarget) return;
  const link = document.querySelector(`a[data-shortcut="${CSS.escape(event.key)}"]`);
  if (link) { event.preventDefault(); link.click(); }
});

// The phone form: typing a name or number finds the caller; arrows and Enter pick one,
// which fills municipality and location, shows their recent tickets and moves to the title.
(() => {
  const search = document.querySelector("[data-caller-search]");
  const results = document.getElementById("caller-results");
  const form = document.getElementById("ticket-form");
  if (!search || !results || !form) return;
  const requester = document.getElementById("requester");
  const tenant = document.getElementById("tenant");
  const location = document.getElementById("location");
  const title = document.getElementById("title");
  const chosen = document.getElementById("chosen-caller");
  const recent = document.getElementById("recent-list");
  let items = [];
  let active = 0;
  let timer = null;
  let seq = 0;

  const filterLocations = () => {
    for (const opt of location.options) {
      if (opt.value) opt.hidden = opt.dataset.tenant !== tenant.value;
    }
    const sel = location.selectedOptions[0];
    if (sel && sel.hidden) location.value = "";
  };
  tenant.addEventListener("change", filterLocations);
  filterLocations();

  const render = () => {
    results.replaceChildren();
    items.forEach((c, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = `caller-${i}`;
      li.className = i === active ? "active" : "";
      li.setAttribute("aria-selected", String(i === active));
      const parts = [c.name, c.tenant_name, c.location_name, c.phone].filter(Boolean);
      li.textContent = parts.join(" · ");
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
      results.appendChild(li);
    });
  };

  const choose = async (i) => {
    const c = items[i];
    if (!c) return;
    requester.value = c.id;
    tenant.value = c.tenant_id;
    filterLocations();
    location.value = c.location_id || "";
    chosen.textContent = `${c.name} · ${c.tenant_name}`;
    items = [];
    render();
    title.focus();
    const res = await fetch(`/tickets/callers/${encodeURIComponent(c.id)}/recent`, { credentials: "same-origin" });
    if (!res.ok) return;
    const data = await res.json();
    recent.replaceChildren();
    for (const t of data.items) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = `/tickets/${t.number}`;
      a.textContent = `#${t.number} ${t.title}`;
      li.append(a, ` · ${t.status}`);
      recent.appendChild(li);
    }
  };

  search.addEventListener("input", () => {
    clearTimeout(timer);
    const q = search.value.trim();
    timer = setTimeout(async () => {
      const mine = ++seq;
      if (q.length < 2) { items = []; render(); return; }
      const res = await fetch(`/tickets/callers?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
      if (!res.ok || mine !== seq) return;
      items = (await res.json()).items;
      active = 0;
      render();
    }, 120);
  });

  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); active = Math.min(active + 1, items.length - 1); render(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); active = Math.max(active - 1, 0); render(); }
    else if (e.key === "Enter") {
      e.preventDefault();
      if (items.length) choose(active); else title.focus();
    }
  });
})();

// "/" jumps to the search field, as in most tools technicians already use.
document.addEventListener("keydown", (event) => {
  const t = event.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  const field = document.querySelector(`[data-focus-key="${CSS.escape(event.key)}"]`);
  if (field) { event.preventDefault(); field.focus(); }
});

// Live views: when the server says the tickets on this page changed, fetch the page again
// and swap the marked regions (never the forms, so nobody loses what they are typing).
// A page listens only while it is seen. Over HTTP/1.1 a browser keeps at most six
// connections to one server; a stream held by every open tab, or by a page kept in the
// back/forward cache, took them all and the next page waited minutes for one (browser tests
// "many open tabs" and the queue's bulk action). When the page is seen again, changes made
// meanwhile were not heard, so it fetches once and listens again.
(() => {
  const source = document.querySelector("[data-live-url]");
  if (!source || !window.EventSource) return;
  const refresh = async () => {
    const res = await fetch(location.href, { credentials: "same-origin" });
    if (!res.ok) return;
    const fresh = new DOMParser().parseFromString(await res.text(), "text/html");
    for (const region of document.querySelectorAll("[data-live-region][id]")) {
      const next = fresh.getElementById(region.id);
      if (next) region.replaceWith(document.adoptNode(next));
    }
  };
  let events = null;
  const listen = () => {
    if (events || document.visibilityState === "hidden") return;
    events = new EventSource(source.dataset.liveUrl);
    events.addEventListener("changed", refresh);
  };
  const stop = () => {
    if (events) events.close();
    events = null;
  };
  const resume = () => {
    if (events || document.visibilityState === "hidden") return;
    refresh();
    listen();
  };
  listen();
  document.addEventListener("visibilitychange", () =>
    document.visibilityState === "hidden" ? stop() : resume());
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", (event) => { if (event.persisted) resume(); });
})();
