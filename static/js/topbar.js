/* The top bar on a phone: its entries fold behind a "Menu" button.

   Without this script the entries wrap under the brand and stay usable; with
   it, narrow screens (see .topbar in backoffice.css) show the button, which
   opens and closes the list. Wide screens ignore the button altogether.
   Also hides a banner whose end has passed (data-ends-at), so that a pause
   "until 19:30" disappears at 19:30 on a page nobody reloads. */
(function () {
  "use strict";

  function setUpMenu() {
    var button = document.querySelector(".topbar-toggle");
    var menu = document.getElementById("topbar-menu");
    if (!button || !menu) return;
    document.documentElement.classList.add("topbar-folds");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.classList.contains("is-open")) {
        menu.classList.remove("is-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  function hideEndedBanners() {
    var now = Date.now();
    document.querySelectorAll("[data-ends-at]").forEach(function (banner) {
      var ends = Date.parse(banner.dataset.endsAt);
      if (!isNaN(ends) && ends <= now) banner.hidden = true;
    });
  }

  function setUp() {
    setUpMenu();
    hideEndedBanners();
    window.setInterval(hideEndedBanners, 10000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
