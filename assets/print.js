// Print buttons (class only-js, data-print): a page that shows something
// once (bypass or recovery codes) offers to print it. Without script the
// buttons stay hidden and the browser's own print command does the same.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
