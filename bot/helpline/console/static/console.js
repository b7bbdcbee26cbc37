/*
 * The helpline console's live updates. Runs under a strict CSP (script-src 'self',
 * connect-src 'self'): no inline code, no eval, only same-origin requests.
 *
 * - Listens to /events (server-sent events). On `changed`, every element with a
 *   data-live URL (the queue, a ticket's details and its transcript) is fetched again
 *   as an HTML fragment and swapped in. The reply box is never inside one of them,
 *   so a half-typed reply is kept.
 * - Asks /alerts which tickets are waiting; one it has not seen before (a new emergency
 *   or a new request for a person) shows the role="alert" banner, prefixes the title
 *   with "(n) " and beeps (Web Audio, only after the page has been used, as browsers
 *   require). Seen tickets are remembered for the browser tab (sessionStorage).
 * - The language <select> submits its form when changed.
 */
(function () {
  "use strict";

  var body = document.body;
  var baseTitle = document.title;
  var unseen = [];  // the banner's texts since it was last dismissed
  var audio = null;
  var interacted = false;
  var STORE_KEY = "helpline-console-seen";

  function autosubmit() {
    var selects = document.querySelectorAll("select[data-autosubmit]");
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener("change", function () {
        if (select.form) { select.form.submit(); }
      });
    });
  }

  function onInteraction() {
    interacted = true;
    if (!audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (Context) {
        try { audio = new Context(); } catch (e) { audio = null; }
      }
    }
    if (audio && audio.state === "suspended") { audio.resume(); }
  }

  function beep() {
    if (!interacted || !audio) { return; }
    try {
      var now = audio.currentTime;
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.setValueAtTime(880, now);
      gain.gain.setValueAtTime(0.0001, now);
      gain.gain.exponentialRampToValueAtTime(0.25, now + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.35);
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(now);
      oscillator.stop(now + 0.4);
    } catch (e) { /* no sound then; the banner is still there */ }
  }

  function setTitle() {
    document.title = unseen.length > 0 ? "(" + unseen.length + ") " + baseTitle : baseTitle;
  }

  function showNotice(texts) {
    var banner = document.getElementById("live-notice");
    if (!banner) { return; }
    unseen = unseen.concat(texts);
    banner.querySelector(".alert-text").textContent = unseen.join(" · ");  // text, never HTML
    banner.hidden = false;
    setTitle();
    beep();
  }

  function dismissNotice() {
    var banner = document.getElementById("live-notice");
    if (banner) { banner.hidden = true; }
    unseen = [];
    setTitle();
  }

  function loadSeen() {
    try {
      var raw = window.sessionStorage.getItem(STORE_KEY);
      return raw ? JSON.parse(raw) : null;
    } catch (e) { return null; }
  }

  function saveSeen(ids) {
    try { window.sessionStorage.setItem(STORE_KEY, JSON.stringify(ids)); } catch (e) { /* private mode */ }
  }

  function checkAlerts() {
    var url = body.getAttribute("data-alerts");
    if (!url) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data || !data.waiting) { return; }
        var seen = loadSeen();
        var ids = data.waiting.map(function (item) { return item.id; });
        if (seen === null) {  // the first page of this tab: what waits now is not news
          saveSeen(ids);
          return;
        }
        var fresh = data.waiting.filter(function (item) { return seen.indexOf(item.id) === -1; });
        saveSeen(seen.concat(fresh.map(function (item) { return item.id; })).slice(-500));
        if (fresh.length) { showNotice(fresh.map(function (item) { return item.text; })); }
      })
      .catch(function () { /* the next change tries again */ });
  }

  function atBottom(element) {
    var list = element.querySelector("ol");
    return !list || list.scrollHeight - list.scrollTop - list.clientHeight < 8;
  }

  function refresh(element) {
    var url = element.getAttribute("data-live");
    var keepBottom = element.hasAttribute("data-keep-bottom") && atBottom(element);
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html === null || html === element.innerHTML) { return; }
        if (element.contains(document.activeElement)) { return; }  // do not pull the focus away
        element.innerHTML = html;  // fragments are rendered (and escaped) by the server
        if (keepBottom) {
          var list = element.querySelector("ol");
          if (list) { list.scrollTop = list.scrollHeight; }
        }
      })
      .catch(function () { /* the next change tries again */ });
  }

  function refreshAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), refresh);
    checkAlerts();
  }

  function listen() {
    var url = body.getAttribute("data-live-events");
    if (!url || !window.EventSource) { return; }
    var source = new EventSource(url);
    var lost = document.getElementById("live-lost");
    source.addEventListener("changed", refreshAll);
    source.addEventListener("logout", function () { source.close(); window.location.reload(); });
    source.addEventListener("open", function () { if (lost) { lost.hidden = true; } });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        // closed for good (the session ended, or the server answered an error): check which
        fetch(body.getAttribute("data-alerts"), { credentials: "same-origin", cache: "no-store" })
          .then(function (response) {
            if (response.status === 401) { window.location.reload(); } else if (lost) { lost.hidden = false; }
          })
          .catch(function () { if (lost) { lost.hidden = false; } });
      }
    });
  }

  function start() {
    autosubmit();
    ["click", "keydown", "touchstart"].forEach(function (name) {
      document.addEventListener(name, onInteraction, { passive: true });
    });
    var dismiss = document.querySelector(".alert-dismiss");
    if (dismiss) { dismiss.addEventListener("click", dismissNotice); }
    Array.prototype.forEach.call(document.querySelectorAll("[data-keep-bottom] ol"), function (list) {
      list.scrollTop = list.scrollHeight;
    });
    checkAlerts();
    listen();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
