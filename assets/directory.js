// Follows a running directory sync on its page: asks the portal how far
// the run has got every second and shows it, then reloads the page to show
// what the run did. Without script the page says to reload.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("sync-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var text = document.getElementById("sync-progress-text");
  var bar = document.getElementById("sync-progress-bar");
  function later(ms) { setTimeout(poll, ms); }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (p) {
        if (!p) { later(3000); return; }
        text.textContent = p.text;
        if (bar) {
          bar.max = Math.max(p.to_write, 1);
          bar.value = p.written;
          bar.textContent = p.written + " of " + p.to_write;
        }
        if (p.running) { later(1000); } else { window.location.reload(); }
      })
      .catch(function () { later(3000); });
  }
  later(1000);
});
