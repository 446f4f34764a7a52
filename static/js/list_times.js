/* The order list's times, kept exact between renders: "il y a 12 min", the "En retard" and
   "Pas encore acceptée" tags, the alert about orders waiting for more than five minutes.

   The server writes each of them as it is when it renders, with the moment it changes:
   - [data-since] (Unix seconds): the text is how long ago, in the formats #live-list gives
     (data-minutes, data-hours, data-days);
   - [data-from] on a tag: hidden before that moment, shown from it, and its card gets
     data-card-class ("overdue", "waiting") at the same time;
   - #live-list's data-waiting-now (orders waiting at the render) and data-waiting-from (when each
     other new order crosses the five minutes): the alert and data-waiting, which
     static/js/new_orders.js reads to ring louder, count them.
   So the server renders a list again when its orders change, not every minute
   (orders/live_poll.py). The page's clock is set by the Date header of each live refresh,
   so that a tablet whose clock is a few minutes off still shows the kitchen's time. */
(function () {
  "use strict";

  var TICK_MS = 5000;
  var offsetMs = 0;

  function now() {
    return (Date.now() + offsetMs) / 1000;
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)(02)?d/g, function (match, name, padded) {
      var value = String(Math.floor(values[name]));
      return padded && value.length < 2 ? "0" + value : value;
    });
  }

  function ago(list, seconds) {
    var minutes = Math.max(0, Math.floor(seconds / 60));
    if (minutes < 60) return format(list.dataset.minutes, { minutes: minutes });
    if (minutes < 24 * 60) return format(list.dataset.hours, { hours: minutes / 60, minutes: minutes % 60 });
    return format(list.dataset.days, { days: minutes / (24 * 60) });
  }

  function waitingCount(list, at) {
    var count = Number(list.dataset.waitingNow || 0);
    (list.dataset.waitingFrom || "").split(" ").forEach(function (from) {
      if (from && Number(from) <= at) count += 1;
    });
    return count;
  }

  function showAlert(list, count) {
    var alert = list.querySelector(".alert-waiting");
    if (!alert) return;
    if (count > 0) {
      var text = (count === 1 ? alert.dataset.one : alert.dataset.other).replace("%(counter)s", String(count));
      var strong = alert.querySelector("strong");
      if (strong.textContent !== text) strong.textContent = text;
    }
    alert.hidden = count === 0;
  }

  function refresh() {
    var list = document.getElementById("live-list");
    if (!list) return;
    var at = now();
    list.querySelectorAll("[data-since]").forEach(function (element) {
      var text = ago(list, at - Number(element.dataset.since));
      if (element.textContent !== text) element.textContent = text;
    });
    list.querySelectorAll("[data-from]").forEach(function (tag) {
      var on = Number(tag.dataset.from) <= at;
      tag.hidden = !on;
      var card = tag.closest(".order-card");
      if (card && tag.dataset.cardClass) card.classList.toggle(tag.dataset.cardClass, on);
    });
    var waiting = waitingCount(list, at);
    showAlert(list, waiting);
    if (list.dataset.waiting !== String(waiting)) list.dataset.waiting = String(waiting);
  }

  function setClock(event) {
    var response = event.detail && event.detail.ctx && event.detail.ctx.response;
    var date = response && response.headers && response.headers.get("Date");
    var server = date ? Date.parse(date) : NaN;
    /* The header is in whole seconds: its middle is the best guess. */
    if (!isNaN(server)) offsetMs = server + 500 - Date.now();
  }

  function setUp() {
    refresh();
    document.addEventListener("htmx:after:request", setClock);
    /* htmx replaces #live-list; watching the DOM works whatever htmx's event names. Texts that
       refresh() writes are the ones it finds already written the next time: no loop. */
    new MutationObserver(refresh).observe(document.querySelector("main") || document.body, { childList: true, subtree: true });
    window.setInterval(refresh, TICK_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
