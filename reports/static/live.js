// Live view: replace the tables with each snapshot the server pushes (server-sent events).
(function () {
  "use strict";
  var region = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!region || !window.EventSource) {
    if (status) { status.textContent = "Mise à jour automatique indisponible : rechargez la page."; }
    return;
  }
  var source = new EventSource(region.getAttribute("data-stream"));
  source.addEventListener("open", function () { status.textContent = "Mise à jour automatique active."; });
  source.addEventListener("error", function () { status.textContent = "Flux interrompu, reconnexion…"; });
  source.addEventListener("snapshot", function (event) { region.innerHTML = event.data; });
})();
