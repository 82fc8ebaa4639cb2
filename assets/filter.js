// Filters a long list of choices as the admin types (the denied countries
// of a policy). Without script every choice is shown and the form works
// the same.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-filter"));
    if (!list) { return; }
    input.addEventListener("input", function () {
      var want = input.value.trim().toLowerCase();
      list.querySelectorAll("[data-name]").forEach(function (item) {
        var name = item.getAttribute("data-name").toLowerCase();
        item.hidden = want !== "" && name.indexOf(want) === -1;
      });
    });
  });
});
