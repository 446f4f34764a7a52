/* The live refreshes (#live-list, #live-status, every 3 s) send back the ETag of what they show, so that
   the server answers 204 when nothing changed and htmx leaves the page alone (orders/live_poll.py).

   Left to the browser's HTTP cache this works every other time only: a 204 is not kept in the cache
   and drops the entry it answered, so the next refresh goes without If-None-Match and gets the whole
   fragment again. The ETag is kept here per element instead, and only for GETs. */
(function () {
  "use strict";

  var etags = {};

  function sourceId(event) {
    var ctx = event.detail && event.detail.ctx;
    return ctx && ctx.request && ctx.request.method === "GET" && ctx.sourceElement ? ctx.sourceElement.id : "";
  }

  document.addEventListener("htmx:config:request", function (event) {
    var id = sourceId(event);
    if (id && etags[id]) event.detail.ctx.request.headers["If-None-Match"] = etags[id];
  });

  document.addEventListener("htmx:after:request", function (event) {
    var id = sourceId(event);
    var response = event.detail.ctx.response;
    var etag = response && response.headers && response.headers.get("ETag");
    if (id && etag) etags[id] = etag;
    else if (id) delete etags[id];
  });
})();
