/* New orders on the order list: a chime that keeps ringing until someone looks, and the "Activer le son" toggle.

   The live fragment (#live-list, replaced by htmx every few seconds) carries, whatever
   the tab shown:
   - data-latest-unopened: the newest order of Reçu that nobody has opened yet. It growing
     while the page is open means a new order came in: the chime rings at once.
   - data-unopened: how many orders of Reçu nobody has opened. While it is not zero the
     chime rings again every data-repeat-seconds (20 s), as HubRise's own order app does;
     it stops at the first refresh that shows zero (someone opened it, here or elsewhere).
   - data-waiting: orders still "new" after five minutes. While there are some, the
     repeat uses the urgent sound, at full volume, even once they have been opened.
   Browsers only let a page play sound after the user has interacted with it, so the
   choice is remembered in localStorage and the first tap or key on the page unlocks
   the sound again after a reload. Each ring also sets body[data-last-chime] and sends
   a "getresto:chime" event, for whoever watches the page without sound. */
(function () {
  "use strict";

  var STORAGE_KEY = "getresto.sound";
  var NORMAL_VOLUME = 0.7;
  var script = document.currentScript;
  var repeatMs = (Number(script.dataset.repeatSeconds) || 20) * 1000;
  var audio = new Audio(script.dataset.sound);
  audio.preload = "auto";
  audio.volume = NORMAL_VOLUME;
  var urgent = new Audio(script.dataset.urgentSound || script.dataset.sound);
  urgent.preload = "auto";
  urgent.volume = 1;
  var unlocked = false;
  var heard = null;
  var repeater = null;
  var state = { unopened: 0, waiting: 0, latest: 0 };

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

  function show(mode) {
    var button = toggle();
    if (!button) return;
    button.hidden = false;
    button.dataset.state = mode;
    button.setAttribute("aria-pressed", mode === "off" ? "false" : "true");
    button.querySelector(".label").textContent = button.dataset["label" + mode.charAt(0).toUpperCase() + mode.slice(1)];
  }

  function play(sound) {
    sound.currentTime = 0;
    var playing = sound.play();
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

  function ring(kind) {
    document.body.dataset.lastChime = String(state.latest);
    document.body.dataset.lastChimeKind = kind;
    document.dispatchEvent(new CustomEvent("getresto:chime", { detail: { id: state.latest, kind: kind } }));
    if (soundOn()) play(kind === "urgent" ? urgent : audio);
  }

  function needsRinging() {
    return state.unopened > 0 || state.waiting > 0;
  }

  function repeat() {
    if (!needsRinging()) return stopRepeating();
    ring(state.waiting > 0 ? "urgent" : "new");
  }

  function startRepeating() {
    if (repeater === null) repeater = window.setInterval(repeat, repeatMs);
  }

  function stopRepeating() {
    if (repeater !== null) window.clearInterval(repeater);
    repeater = null;
  }

  function check() {
    var list = document.getElementById("live-list");
    if (!list) return;
    state.latest = Number(list.dataset.latestUnopened || 0);
    state.unopened = Number(list.dataset.unopened || 0);
    state.waiting = Number(list.dataset.waiting || 0);
    document.title = document.title.replace(/^\(\d+\) /, "");
    if (state.unopened > 0) document.title = "(" + state.unopened + ") " + document.title;
    if (heard !== null && state.latest > heard) {
      ring(state.waiting > 0 ? "urgent" : "new");
      /* A new arrival restarts the count: the next ring is a full interval later. */
      stopRepeating();
    }
    heard = Math.max(heard || 0, state.latest);
    if (needsRinging()) startRepeating();
    else stopRepeating();
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
          play(audio); /* The click is the interaction that allows it: the cook hears what will ring. */
        } else {
          show("off");
        }
      });
      show(soundOn() ? (navigator.userActivation && !navigator.userActivation.hasBeenActive ? "blocked" : "on") : "off");
    }
    document.addEventListener("pointerdown", unlock, true);
    document.addEventListener("keydown", unlock, true);
    check();
    /* htmx replaces #live-list; watching the DOM works whatever htmx's event names. data-waiting also
       changes between refreshes, when static/js/list_times.js sees an order cross the five minutes. */
    new MutationObserver(check).observe(document.querySelector("main") || document.body, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["data-waiting"],
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
