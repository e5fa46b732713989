// ClaimDesk's idle warning. The server logs a user off after CLAIMDESK_IDLE_MINUTES without a request
// (admin_views/auth.py); this only warns beforehand and offers to stay. No third-party code or request.
(function () {
  "use strict";
  var script = document.currentScript;
  var idle = Number(script.dataset.idleSeconds) * 1000;
  var warnBefore = Number(script.dataset.warnSeconds) * 1000;
  var keepalive = script.dataset.keepalive;
  var warnTimer, leaveTimer, banner;

  function csrfToken() {
    var field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  function showWarning() {
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "alert alert-warning text-center mb-0";
      banner.setAttribute("role", "alert");
      banner.id = "cd-idle-warning";
      banner.textContent = "You will be logged off soon because you have been inactive. ";
      var stay = document.createElement("button");
      stay.type = "button";
      stay.className = "btn btn-sm btn-warning ml-2";
      stay.textContent = "Stay logged in";
      stay.addEventListener("click", stayLoggedIn);
      banner.appendChild(stay);
      document.body.insertBefore(banner, document.body.firstChild);
    }
    banner.hidden = false;
  }

  function stayLoggedIn() {
    var body = new FormData();
    body.append("csrf_token", csrfToken());
    fetch(keepalive, { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
      if (response.ok) { restart(); } else { window.location.reload(); }
    });
  }

  function restart() {
    if (banner) { banner.hidden = true; }
    clearTimeout(warnTimer);
    clearTimeout(leaveTimer);
    warnTimer = setTimeout(showWarning, Math.max(0, idle - warnBefore));
    // A second past the limit, reload: the server answers with the login page and says why.
    leaveTimer = setTimeout(function () { window.location.reload(); }, idle + 1000);
  }

  if (idle > 0) { restart(); }
})();
