// The only script: HS code suggestions on the subscribe form, from /api/hs. Pages work without it.
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
