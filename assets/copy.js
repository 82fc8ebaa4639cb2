// Copy buttons of the application credentials page. Each button names the
// element whose text it copies, exactly (configuration snippets keep their
// line breaks); a status line tells screen readers it worked. Without
// script the buttons stay hidden and the values can be selected by hand.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var status = document.getElementById("copy-status");
  document.querySelectorAll("button[data-copy-exact]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy-exact"));
      if (!source || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(source.textContent).then(function () {
        if (status) { status.textContent = "Copied."; }
        button.textContent = "Copied";
      }, function () {
        if (status) { status.textContent = "The browser did not allow copying; select the text and copy it by hand."; }
      });
    });
  });
});
