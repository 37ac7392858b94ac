// The only script: the subscribe form's HS code suggestions (from /api/hs) and product-line filter box.
// Pages work without it.
"use strict";
(function () {
  const input = document.getElementById("hs-input");
  const list = document.getElementById("hs-suggestions");
  if (!input || !list) return;
  let timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    const parts = input.value.split(/[,;，；、\s]+/);
    const last = parts[parts.length - 1].trim();
    if (last.length < 2) return;
    timer = setTimeout(async function () {
      const response = await fetch("/api/hs?limit=12&q=" + encodeURIComponent(last));
      if (!response.ok) return;
      const data = await response.json();
      const prefix = parts.slice(0, -1).join(", ");
      list.replaceChildren(...data.results.map(function (entry) {
        const option = document.createElement("option");
        option.value = (prefix ? prefix + ", " : "") + entry.code;
        option.textContent = entry.code + " " + entry.description;  // text, never HTML
        return option;
      }));
    }, 200);
  });
})();

(function () {
  const box = document.getElementById("line-filter");
  if (!box) return;
  box.addEventListener("input", function () {
    const words = box.value.trim().toLowerCase();
    document.querySelectorAll("fieldset.line-group").forEach(function (group) {
      let shown = 0;
      group.querySelectorAll("label.check").forEach(function (label) {
        const match = !words || (label.dataset.names || label.textContent).toLowerCase().includes(words);
        label.classList.toggle("hidden", !match);
        if (match) shown += 1;
      });
      group.classList.toggle("hidden", shown === 0);
    });
  });
})();
