// The ticket print view (printing/ticket_print.html): opens the browser's print dialog once the
// page is shown, and again from the "Print" button. The @media print rules of css/printing.css
// leave nothing but the ticket on paper.
(function () {
  "use strict";
  function printNow() { window.print(); }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print-now]").forEach(function (button) {
      button.addEventListener("click", printNow);
    });
    if (document.querySelector("[data-auto-print='true']")) {
      window.setTimeout(printNow, 300);
    }
  });
})();
