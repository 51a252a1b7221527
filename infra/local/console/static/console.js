// Live regions: while the tab is visible, re-read the page every 2 s and replace each [data-live]
// element whose content changed. Forms sit outside live regions, so typing is never interrupted.
(function () {
  "use strict";
  // Pointing at a box of the topology lights its flows and dims the rest (delegated: regions are replaced).
  document.addEventListener("mouseover", function (event) {
    var node = event.target.closest && event.target.closest(".node");
    var svg = node && node.closest("svg");
    document.querySelectorAll("svg.dim").forEach(function (s) { if (s !== svg) { s.classList.remove("dim"); } });
    if (!node) { return; }
    svg.classList.add("dim");
    svg.querySelectorAll(".edge").forEach(function (edge) {
      var id = node.getAttribute("data-id");
      var lit = edge.getAttribute("data-source") === id || edge.getAttribute("data-target") === id;
      edge.classList.toggle("lit", lit);
    });
  });
  var PERIOD_MS = 2000;
  function regions() { return document.querySelectorAll("[data-live]"); }
  if (!regions().length) { return; }
  var busy = false;
  function refresh() {
    if (busy || document.visibilityState !== "visible") { return; }
    busy = true;
    fetch(window.location.href, { headers: { "X-Console-Live": "1" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        regions().forEach(function (region) {
          var next = fresh.getElementById(region.id);
          if (next && next.innerHTML !== region.innerHTML) { region.innerHTML = next.innerHTML; }
        });
        var stamp = document.getElementById("updated");
        if (stamp) { stamp.textContent = "updated " + new Date().toLocaleTimeString(); }
      })
      .catch(function () { /* make run is restarting: the next tick tries again */ })
      .then(function () { busy = false; });
  }
  window.setInterval(refresh, PERIOD_MS);
})();
