/* New orders on the order list: a chime when one arrives, and the "Activer le son" toggle.

   The live fragment (#live-list, replaced by htmx every few seconds) carries
   data-latest-unopened, the id of the newest order of Reçu that nobody has
   opened yet, whatever the tab shown. It growing while the page is open means
   a new order came in. Browsers only let a page play sound after the user has
   interacted with it, so the choice is remembered in localStorage and the
   first tap or key on the page unlocks the sound again after a reload. */
(function () {
  "use strict";

  var STORAGE_KEY = "getresto.sound";
  var script = document.currentScript;
  var audio = new Audio(script.dataset.sound);
  audio.preload = "auto";
  var unlocked = false;
  var heard = null;

  function soundOn() {
    try {
      return window.localStorage.getItem(STORAGE_KEY) === "on";
    } catch (error) {
      return false;
    }
  }

  function remember(on) {
    try {
      window.localStorage.setItem(STORAGE_KEY, on ? "on" : "off");
    } catch (error) {
      /* Private mode without storage: the choice lasts as long as the page. */
    }
  }

  function toggle() {
    return document.getElementById("sound-toggle");
  }

  function show(state) {
    var button = toggle();
    if (!button) return;
    button.hidden = false;
    button.dataset.state = state;
    button.setAttribute("aria-pressed", state === "off" ? "false" : "true");
    button.querySelector(".label").textContent = button.dataset["label" + state.charAt(0).toUpperCase() + state.slice(1)];
  }

  function play() {
    audio.currentTime = 0;
    var playing = audio.play();
    if (playing && playing.then) {
      playing.then(
        function () {
          unlocked = true;
          if (soundOn()) show("on");
        },
        function () {
          /* Refused until the user interacts with the page: say so on the toggle. */
          if (soundOn()) show("blocked");
        }
      );
    }
  }

  function chime(latest) {
    document.body.dataset.lastChime = String(latest);
    document.dispatchEvent(new CustomEvent("getresto:new-order", { detail: { id: latest } }));
    if (soundOn()) play();
  }

  function check() {
    var list = document.getElementById("live-list");
    if (!list) return;
    var latest = Number(list.dataset.latestUnopened || 0);
    var unopened = Number(list.dataset.unopened || 0);
    document.title = document.title.replace(/^\(\d+\) /, "");
    if (unopened > 0) document.title = "(" + unopened + ") " + document.title;
    if (heard !== null && latest > heard) chime(latest);
    heard = Math.max(heard || 0, latest);
  }

  function unlock() {
    if (unlocked || !soundOn()) return;
    /* Playing muted inside a user gesture is what browsers ask before they allow sound. */
    audio.muted = true;
    var playing = audio.play();
    var done = function () {
      audio.pause();
      audio.muted = false;
      audio.currentTime = 0;
      unlocked = true;
      show("on");
    };
    if (playing && playing.then) playing.then(done, function () { audio.muted = false; });
    else done();
  }

  function setUp() {
    var button = toggle();
    if (button) {
      button.addEventListener("click", function (event) {
        event.stopPropagation();
        var on = !soundOn() || button.dataset.state === "blocked";
        remember(on);
        if (on) {
          show("on");
          play(); /* The click is the interaction that allows it: the cook hears what will ring. */
        } else {
          show("off");
        }
      });
      show(soundOn() ? (navigator.userActivation && !navigator.userActivation.hasBeenActive ? "blocked" : "on") : "off");
    }
    document.addEventListener("pointerdown", unlock, true);
    document.addEventListener("keydown", unlock, true);
    check();
    /* htmx replaces #live-list; watching the DOM works whatever htmx's event names. */
    new MutationObserver(check).observe(document.querySelector("main") || document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
