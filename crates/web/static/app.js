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
// g u: users, g a: audit log, g p: account). Ignored while typing in a field.
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
