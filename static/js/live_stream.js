/* The live parts of a page (#live-list, #live-status) listen for changes instead of asking every 3 s.

   Each names its stream in data-stream (orders/live_stream.py). While the stream is open, the element
   refreshes when the stream says "changed", once when the stream opens (a change may have happened
   while it was closed), and every 20 to 40 s in case a message was lost (each time drawn again, so that
   pages opened together drift apart); its 3 s poll is held back. When
   there is no stream (the server answered 204: no stream process, or the page must render once
   before it may listen), the page polls every 3 s as before, and tries its stream again after a
   refresh, at most every 30 s. */
(function () {
  "use strict";

  function safetyMs() {
    return 20000 + Math.random() * 20000;
  }
  var RETRY_MS = 30000;
  var LIVE_IDS = ["live-list", "live-status"];
  var streams = {};

  function refresh(id) {
    var element = document.getElementById(id);
    if (element) htmx.trigger(element, "live-changed");
  }

  function listen(id) {
    var element = document.getElementById(id);
    var url = element && element.dataset.stream;
    if (!url || !window.EventSource) return;
    var stream = streams[id];
    if (stream && stream.url === url) {
      if (stream.source.readyState !== EventSource.CLOSED || Date.now() - stream.opened < RETRY_MS) return;
    }
    if (stream) stream.source.close();
    var source = new EventSource(url, { withCredentials: true });
    streams[id] = { source: source, url: url, opened: Date.now(), refreshed: Date.now(), safety: safetyMs() };
    source.addEventListener("open", function () { refresh(id); });
    source.addEventListener("changed", function () { refresh(id); });
  }

  function listenAll() {
    LIVE_IDS.forEach(listen);
  }

  function listening(id) {
    var stream = streams[id];
    return stream && stream.source.readyState === EventSource.OPEN ? stream : null;
  }

  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail.ctx;
    var stream = ctx.sourceElement && listening(ctx.sourceElement.id);
    var tick = ctx.sourceEvent && ctx.sourceEvent.type === "every";
    if (stream && tick && Date.now() - stream.refreshed < stream.safety) event.preventDefault();
  });

  document.addEventListener("htmx:after:request", function (event) {
    var element = event.detail.ctx.sourceElement;
    if (!element || LIVE_IDS.indexOf(element.id) < 0) return;
    if (streams[element.id]) {
      streams[element.id].refreshed = Date.now();
      streams[element.id].safety = safetyMs();
    }
    // After the swap: the element that listens may be a new one, with another stream (a filter changed).
    setTimeout(listenAll, 0);
  });

  // A page kept in the back-forward cache holds no connection; it listens again when shown.
  window.addEventListener("pagehide", function () {
    Object.keys(streams).forEach(function (id) { streams[id].source.close(); });
    streams = {};
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) listenAll();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", listenAll);
  else listenAll();
})();
