/*!
 * Diabetesforeningen's chat widget: a small, dependency-free chat window for the
 * Rasa assistant, speaking Rasa's socket.io channel through the official socket.io
 * client (web/vendor/socket.io.min.js, loaded on first use).
 *
 * Embed (docs/widget.md):
 *   <script src="/chat/widget/widget.js"></script>
 *   <script>DFChat.init({ socketUrl: "https://chat.example.dk" });</script>
 *
 * Messages are always shown as text (textContent), never as HTML. Web addresses in
 * the assistant's replies become links built with the DOM, nothing else does.
 *
 * The greeting, the privacy note and the suggested questions come from the server
 * (the `widget_texts` event, bot/channels/widget_texts.py): the widget holds none of
 * those texts itself, only the words of its own controls below.
 */
(function () {
  "use strict";

  if (window.DFChat) {
    return;
  }

  var SCRIPT = document.currentScript;
  var BASE = SCRIPT && SCRIPT.src ? new URL(".", SCRIPT.src).href : new URL("widget/", document.baseURI).href;
  var STORE_KEY = "dfchat:v1";
  var MAX_STORED = 60;
  // Narrow or low viewports (phones; 200 % and 400 % zoom): the chat fills the screen as a
  // modal dialog. widget.css has the same media query.
  var FULL_SCREEN = "(max-width: 40rem), (max-height: 32rem)";
  // How long a message waits for the connection before it is marked "not sent".
  var SEND_TIMEOUT = 6000;
  // Typed, this starts a new conversation, as the header's button does (not sent).
  var RESTART = /^\s*\/restart\s*$/i;
  var CALL_NUMBER = /^[0-9]{2,15}$/;

  var STRINGS = {
    da: {
      launcher: "Spørg om looping",
      unreadOne: "{n} ulæst besked",
      unreadMany: "{n} ulæste beskeder",
      title: "Diabetes|foreningens chatassistent",
      close: "Luk chatten",
      restart: "Ny samtale",
      log: "Samtale med chatassistenten",
      input: "Skriv dit spørgsmål",
      placeholder: "Skriv dit spørgsmål …",
      send: "Send",
      you: "Du skrev:",
      bot: "Assistenten svarede:",
      replies: "Forslag til svar",
      suggestions: "Forslag til spørgsmål",
      connecting: "Forbinder …",
      offline: "Ingen forbindelse til chatassistenten. Prøver igen …",
      typing: "Assistenten skriver …",
      waitingStaff: "Venter på en medarbejder …",
      withStaff: "Du skriver med {name} fra rådgivningen",
      staff: "{name}, Diabetesforeningen",
      staffSaid: "{name} fra Diabetesforeningen svarede:",
      newWindow: "(åbner i et nyt vindue)",
      notSent: "Ikke sendt",
      retry: "Prøv igen",
      call: "Ring {number}",
      sentAt: "kl."
    },
    en: {
      launcher: "Ask about looping",
      unreadOne: "{n} unread message",
      unreadMany: "{n} unread messages",
      title: "Diabetes|foreningen's chat assistant",
      close: "Close the chat",
      restart: "New conversation",
      log: "Conversation with the chat assistant",
      input: "Type your question",
      placeholder: "Type your question …",
      send: "Send",
      you: "You wrote:",
      bot: "The assistant replied:",
      replies: "Suggested replies",
      suggestions: "Suggested questions",
      connecting: "Connecting …",
      offline: "No connection to the chat assistant. Trying again …",
      typing: "The assistant is typing …",
      waitingStaff: "Waiting for a member of staff …",
      withStaff: "You are writing with {name} from the helpline",
      staff: "{name}, Diabetesforeningen",
      staffSaid: "{name} from Diabetesforeningen replied:",
      newWindow: "(opens in a new window)",
      notSent: "Not sent",
      retry: "Retry",
      call: "Call {number}",
      sentAt: "at"
    }
  };

  // ---- small helpers ------------------------------------------------------

  function pageLanguage() {
    var lang = (document.documentElement.getAttribute("lang") || "").toLowerCase();
    return lang.indexOf("en") === 0 ? "en" : "da";
  }

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function isString(value) {
    return typeof value === "string" && value.length > 0;
  }

  function newStore() {
    return { sessionId: randomId(), sessionToken: null, open: false, messages: [], replies: null, unread: 0, greeted: false };
  }

  function loadStore() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      if (stored && typeof stored.sessionId === "string" && Array.isArray(stored.messages)) {
        if (typeof stored.greeted !== "boolean") {
          stored.greeted = stored.messages.length > 0; // kept by an earlier version
        }
        stored.unread = typeof stored.unread === "number" && stored.unread > 0 ? Math.floor(stored.unread) : 0;
        stored.messages.forEach(function (message) {
          if (!isString(message.id)) {
            message.id = randomId();
          }
          if (message.state === "sending") {
            message.state = "failed"; // the page went before the server had it: the person may retry
          }
        });
        return stored;
      }
    } catch (e) { /* storage blocked or corrupt: start afresh */ }
    return newStore();
  }

  function saveStore(store) {
    try {
      store.messages = store.messages.slice(-MAX_STORED);
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(store));
    } catch (e) { /* storage blocked: the chat works, it is just not kept */ }
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = el("script", { src: src, async: "" });
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  // Appends text to `parent`, turning http(s) addresses into links; everything is text nodes.
  var URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
  function appendText(parent, text, linkify, strings) {
    if (!linkify) {
      parent.appendChild(document.createTextNode(text));
      return;
    }
    var last = 0;
    text.replace(URL_PATTERN, function (match, offset) {
      var url = match.replace(/[.,;:!?)]+$/, "");
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url);
      link.appendChild(el("span", { "class": "dfchat-sr-only" }, " " + strings.newWindow));
      parent.appendChild(link);
      last = offset + url.length;
      return match;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function pad(number) {
    return ("0" + number).slice(-2);
  }

  // Local time as HH:MM; a message from another day gets its date in front.
  function clock(date, language) {
    var time = pad(date.getHours()) + ":" + pad(date.getMinutes());
    var today = new Date();
    if (date.toDateString() === today.toDateString()) {
      return time;
    }
    var day = language === "en" ? date.getDate() + "/" + (date.getMonth() + 1) : date.getDate() + "." + (date.getMonth() + 1) + ".";
    return day + " " + time;
  }

  function svgIcon(className, d) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", className);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  function bubbleIcon() {
    return svgIcon("dfchat-launcher-icon", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z");
  }

  function phoneIcon() {
    return svgIcon("dfchat-call-icon", "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z");
  }

  // The elements Tab can reach inside `container`, in order.
  function tabbable(container) {
    var found = container.querySelectorAll("button, [href], input, textarea, select, [tabindex]");
    return Array.prototype.filter.call(found, function (node) {
      return !node.disabled && node.getAttribute("tabindex") !== "-1" && node.getClientRects().length > 0;
    });
  }

  // ---- the widget ---------------------------------------------------------

  function Widget(options) {
    this.options = options;
    this.language = options.language === "en" || options.language === "da" ? options.language : pageLanguage();
    this.strings = STRINGS[this.language];
    this.store = loadStore();
    this.socket = null;
    this.joined = false;     // in the conversation's room (session_confirm received)
    this.restarting = false; // a new session requested, not yet confirmed
    this.privacyShown = false;
    this.outbox = [];        // ids of messages typed before the connection was there
    this.unacked = {};       // id -> true: emitted, not yet acknowledged by the server
    this.typingTimer = null;
    this.hiddenByDialog = [];
    this.media = window.matchMedia ? window.matchMedia(FULL_SCREEN) : null;
    this.build();
    if (this.store.texts) {
      this.showTexts(this.store.texts);
    }
    this.store.messages.forEach(function (message) {
      this.renderMessage(message, false);
    }, this);
    if (this.store.replies) {
      this.renderReplies(this.store.replies.kind, this.store.replies.items, false);
    }
    this.updateBadge();
    saveStore(this.store);
    if (this.store.open) {
      this.open(false);
    } else if (this.store.sessionToken) {
      // A conversation of this tab: listen for replies (and staff) while the chat is closed.
      this.connect();
    }
  }

  Widget.prototype.build = function () {
    var s = this.strings;
    var root = el("div", { "class": "dfchat", lang: this.language });

    this.launcher = el("button", {
      type: "button",
      "class": "dfchat-launcher",
      "aria-expanded": "false",
      "aria-controls": "dfchat-panel"
    });
    this.launcher.appendChild(bubbleIcon());
    this.launcher.appendChild(el("span", { "class": "dfchat-launcher-label" }, s.launcher));
    this.badge = el("span", { "class": "dfchat-badge", "aria-hidden": "true" });
    this.badge.hidden = true;
    this.unreadText = el("span", { "class": "dfchat-sr-only" });
    this.launcher.appendChild(this.badge);
    this.launcher.appendChild(this.unreadText);

    this.panel = el("div", {
      id: "dfchat-panel",
      "class": "dfchat-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "dfchat-title",
      "aria-describedby": "dfchat-notice"
    });
    this.panel.hidden = true;

    var header = el("div", { "class": "dfchat-header" });
    // The title may break inside its long first word at narrow widths ("Diabetes|foreningens").
    var title = el("h2", { id: "dfchat-title", "class": "dfchat-title" });
    s.title.split("|").forEach(function (part, index) {
      if (index) {
        title.appendChild(document.createElement("wbr"));
      }
      title.appendChild(document.createTextNode(part));
    });
    header.appendChild(title);
    this.restartButton = el("button", { type: "button", "class": "dfchat-restart" }, s.restart);
    this.closeButton = el("button", { type: "button", "class": "dfchat-close", "aria-label": s.close });
    this.closeButton.appendChild(el("span", { "aria-hidden": "true" }, "×"));
    header.appendChild(this.restartButton);
    header.appendChild(this.closeButton);

    // The privacy note (from the server) at the top of the conversation: it scrolls
    // away with it, so that at 400 % zoom the header and the input stay in view.
    this.body = el("div", { "class": "dfchat-body" });
    this.notice = el("p", { id: "dfchat-notice", "class": "dfchat-notice" });
    this.notice.hidden = true;

    this.log = el("div", {
      "class": "dfchat-log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": s.log,
      tabindex: "0"
    });
    this.body.appendChild(this.notice);
    this.body.appendChild(this.log);

    this.status = el("p", { "class": "dfchat-status", role: "status", "aria-live": "polite" });

    this.form = el("form", { "class": "dfchat-form", autocomplete: "off" });
    var label = el("label", { "for": "dfchat-input", "class": "dfchat-sr-only" }, s.input);
    this.input = el("input", {
      id: "dfchat-input",
      "class": "dfchat-input",
      type: "text",
      name: "message",
      maxlength: "1000",
      placeholder: s.placeholder,
      enterkeyhint: "send"
    });
    this.sendButton = el("button", { type: "submit", "class": "dfchat-send" }, s.send);
    this.form.appendChild(label);
    this.form.appendChild(this.input);
    this.form.appendChild(this.sendButton);

    this.panel.appendChild(header);
    this.panel.appendChild(this.body);
    this.panel.appendChild(this.status);
    this.panel.appendChild(this.form);
    root.appendChild(this.panel);
    root.appendChild(this.launcher);
    document.body.appendChild(root);
    this.root = root;

    var self = this;
    this.launcher.addEventListener("click", function () {
      if (self.panel.hidden) { self.open(true); } else { self.close(); }
    });
    this.closeButton.addEventListener("click", function () { self.close(); });
    this.restartButton.addEventListener("click", function () { self.restart(); });
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        self.close();
      } else if (event.key === "Tab" && self.modal) {
        self.keepFocus(event);
      }
    });
    // Focus that leaves the full-screen dialog (a click on the page behind, a script) comes back.
    document.addEventListener("focusin", function (event) {
      if (self.modal && !self.panel.hidden && !self.panel.contains(event.target)) {
        self.input.focus();
      }
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      self.input.value = "";
      if (RESTART.test(text)) {
        self.restart();
      } else if (text) {
        self.send(text, text);
      }
      self.input.focus();
    });
    var scrollTimer = null;
    this.body.addEventListener("scroll", function () {
      clearTimeout(scrollTimer);
      scrollTimer = setTimeout(function () { self.rememberScroll(); }, 100);
    });
    window.addEventListener("pagehide", function () {
      if (!self.panel.hidden) { self.rememberScroll(); }
    });
    window.addEventListener("online", function () {
      if (self.socket) { self.reconnectNow(); }
    });
    window.addEventListener("offline", function () { self.failUnsent(); });
    if (this.media) {
      var onChange = function () { self.applyMode(); };
      if (this.media.addEventListener) {
        this.media.addEventListener("change", onChange);
      } else if (this.media.addListener) {
        this.media.addListener(onChange);
      }
    }
  };

  // ---- opening, closing, the full-screen dialog -----------------------------

  Widget.prototype.open = function (moveFocus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.root.classList.add("dfchat--open");
    this.store.open = true;
    var firstUnread = this.store.firstUnread;
    this.store.unread = 0;
    this.store.firstUnread = null;
    this.updateBadge();
    saveStore(this.store);
    this.applyMode();
    var self = this;
    // Where the person was (after a reload: once the stylesheet has made the log scroll).
    this.options.styled.then(function () {
      var entry = firstUnread ? self.entryFor(firstUnread) : null;
      if (self.panel.hidden) {
        return;
      } else if (entry) {
        self.reveal(entry);
      } else {
        self.restoreScroll();
      }
    });
    if (moveFocus) {
      this.input.focus();
    }
    this.connect();
  };

  Widget.prototype.close = function () {
    this.rememberScroll();
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.root.classList.remove("dfchat--open");
    this.store.open = false;
    saveStore(this.store);
    this.applyMode();
    this.launcher.focus();
  };

  // On a narrow or low screen the open chat is a modal dialog that fills the screen: the
  // page behind is inert (no focus, hidden from screen readers) and Tab wraps inside it.
  Widget.prototype.applyMode = function () {
    var fullScreen = !!(this.media && this.media.matches);
    var modal = fullScreen && !this.panel.hidden;
    this.root.classList.toggle("dfchat--full-screen", fullScreen);
    this.panel.setAttribute("aria-modal", modal ? "true" : "false");
    document.documentElement.classList.toggle("dfchat-modal-open", modal);
    if (modal === !!this.modal) {
      return;
    }
    this.modal = modal;
    var self = this;
    if (modal) {
      Array.prototype.forEach.call(document.body.children, function (node) {
        if (node === self.root || node.tagName === "SCRIPT" || node.hasAttribute("inert")) {
          return;
        }
        node.setAttribute("inert", "");
        var hidden = node.getAttribute("aria-hidden");
        node.setAttribute("aria-hidden", "true");
        self.hiddenByDialog.push({ node: node, ariaHidden: hidden });
      });
      if (!this.panel.contains(document.activeElement)) {
        this.input.focus();
      }
    } else {
      this.hiddenByDialog.splice(0).forEach(function (item) {
        item.node.removeAttribute("inert");
        if (item.ariaHidden === null) {
          item.node.removeAttribute("aria-hidden");
        } else {
          item.node.setAttribute("aria-hidden", item.ariaHidden);
        }
      });
    }
  };

  // Tab from the last control goes to the first, Shift+Tab from the first to the last.
  Widget.prototype.keepFocus = function (event) {
    var stops = tabbable(this.panel);
    if (!stops.length) {
      return;
    }
    var first = stops[0];
    var last = stops[stops.length - 1];
    var active = document.activeElement;
    if (event.shiftKey && (active === first || !this.panel.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !this.panel.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  };

  Widget.prototype.updateBadge = function () {
    var count = this.store.unread || 0;
    this.badge.hidden = count === 0;
    this.badge.textContent = count ? String(count) : "";
    var words = count === 1 ? this.strings.unreadOne : this.strings.unreadMany;
    this.unreadText.textContent = count ? ", " + words.replace("{n}", String(count)) : "";
    this.root.classList.toggle("dfchat--unread", count > 0);
  };

  // ---- scrolling ----------------------------------------------------------

  Widget.prototype.atEnd = function () {
    return this.body.scrollHeight - this.body.scrollTop - this.body.clientHeight < 24;
  };

  Widget.prototype.rememberScroll = function () {
    if (this.panel.hidden || !this.body.clientHeight) {
      return;
    }
    this.store.scroll = { top: Math.round(this.body.scrollTop), atEnd: this.atEnd() };
    saveStore(this.store);
  };

  Widget.prototype.restoreScroll = function () {
    var scroll = this.store.scroll;
    if (!this.asked()) {
      this.body.scrollTop = 0; // nothing asked yet: the privacy note and the greeting first
    } else if (scroll && !scroll.atEnd && typeof scroll.top === "number") {
      this.body.scrollTop = scroll.top;
    } else {
      this.scrollToEnd();
    }
  };

  Widget.prototype.asked = function () {
    return this.store.messages.some(function (m) { return m.from === "user"; });
  };

  Widget.prototype.scrollToEnd = function () {
    this.body.scrollTop = this.body.scrollHeight;
  };

  // Shows a new message: the end of the conversation, or, when the reply that started at
  // `entry` is taller than the view, the reply's first line (the person reads down).
  Widget.prototype.reveal = function (entry) {
    if (this.panel.hidden) {
      return;
    }
    var top = entry.offsetTop - 8;
    if (this.body.scrollHeight - top > this.body.clientHeight) {
      this.body.scrollTop = top;
    } else {
      this.scrollToEnd();
    }
  };

  Widget.prototype.entryFor = function (id) {
    return this.log.querySelector('[data-id="' + id + '"]');
  };

  // ---- the connection -----------------------------------------------------

  Widget.prototype.setStatus = function (text) {
    if (this.status.textContent !== text) {
      this.status.textContent = text;
    }
  };

  Widget.prototype.connect = function () {
    if (this.socket || this.connecting) {
      return;
    }
    var self = this;
    this.connecting = true;
    this.setStatus(this.strings.connecting);
    var ready = typeof window.io === "function" ? Promise.resolve() : loadScript(this.options.socketClientUrl);
    ready.then(function () {
      var socket = window.io(self.options.socketUrl, { path: self.options.socketPath, reconnectionDelayMax: 10000 });
      self.socket = socket;
      self.connecting = false;
      // Joins the conversation's room again after every (re)connection.
      socket.on("connect", function () { self.requestSession(); });
      socket.on("session_token", function (token) {
        if (isString(token)) {
          self.store.sessionToken = token;
          saveStore(self.store);
        }
      });
      socket.on("widget_texts", function (texts) { self.receiveTexts(texts); });
      socket.on("session_confirm", function (sessionId) {
        if (isString(sessionId)) {
          self.store.sessionId = sessionId;
          saveStore(self.store);
        }
        self.joined = true;
        self.restarting = false;
        self.setStatus(self.waiting ? self.strings.typing : self.handoffStatus());
        self.flush();
      });
      socket.on("connect_error", function () { self.setStatus(self.strings.offline); });
      socket.on("disconnect", function () {
        self.joined = false;
        self.setStatus(self.strings.offline);
        self.failUnsent();
      });
      socket.on(self.options.botMessageEvent, function (message) { self.receive(message); });
    }).catch(function () {
      self.connecting = false;
      self.setStatus(self.strings.offline);
      self.failUnsent();
    });
  };

  // The token proves that this tab opened the session (bot/channels/widget_sessions.py);
  // the language is the one the greeting and the privacy note come back in.
  Widget.prototype.requestSession = function () {
    this.socket.emit("session_request", {
      session_id: this.store.sessionId,
      session_token: this.store.sessionToken || null,
      language: this.language
    });
  };

  // After a lost connection: try again at once rather than after the back-off.
  Widget.prototype.reconnectNow = function () {
    if (!this.socket) {
      this.connect();
    } else if (!this.socket.connected) {
      this.socket.disconnect();
      this.socket.connect();
    }
  };

  // ---- the opening texts from the server ----------------------------------------

  Widget.prototype.receiveTexts = function (texts) {
    if (!texts || typeof texts !== "object" || !isString(texts.greeting) || !isString(texts.privacy)) {
      return;
    }
    var suggestions = Array.isArray(texts.suggestions) ? texts.suggestions.filter(function (s) {
      return s && isString(s.title) && isString(s.payload);
    }).map(function (s) {
      return { title: s.title, payload: s.payload };
    }) : [];
    this.store.texts = { greeting: texts.greeting, privacy: texts.privacy, suggestions: suggestions };
    this.showTexts(this.store.texts);
    if (!this.store.greeted) {
      this.store.greeted = true;
      var greeting = { id: randomId(), from: "bot", greeting: true, text: texts.greeting, time: new Date().toISOString() };
      this.store.messages.unshift(greeting);
      this.renderMessage(greeting, true, this.log.firstChild);
      if (!this.asked()) {
        this.renderReplies("suggestions", suggestions, true);
        this.body.scrollTop = 0;
      }
    }
    saveStore(this.store);
    if (this.joined) {
      this.flush();
    }
  };

  Widget.prototype.showTexts = function (texts) {
    if (isString(texts.privacy)) {
      this.notice.textContent = texts.privacy;
      this.notice.hidden = false;
      this.privacyShown = true;
    }
  };

  // ---- sending ------------------------------------------------------------

  // `shown` is what the log shows (the button title), `message` what goes to the assistant.
  Widget.prototype.send = function (shown, message) {
    this.removeQuickReplies();
    var entry = { id: randomId(), from: "user", text: shown, time: new Date().toISOString(), state: "sending" };
    if (message !== shown) {
      entry.send = message;
    }
    this.store.messages.push(entry);
    saveStore(this.store);
    this.renderMessage(entry, true);
    this.turnStart = null;
    this.scrollToEnd();
    this.showTyping();
    this.connect();
    this.deliver(entry);
  };

  Widget.prototype.showTyping = function () {
    var self = this;
    clearTimeout(this.typingTimer);
    if (this.store.handoff) {
      // A person answers, not the assistant: no typing indicator (bot/channels/webchat.py).
      this.waiting = false;
      this.setStatus(this.handoffStatus());
    } else {
      this.waiting = true;
      this.setStatus(this.strings.typing);
      this.typingTimer = setTimeout(function () {
        self.waiting = false;
        self.setStatus(self.handoffStatus());
      }, 30000);
    }
  };

  // Sends at once when in the conversation's room (and the privacy note is shown),
  // otherwise when the connection comes; after SEND_TIMEOUT without it: "not sent".
  Widget.prototype.deliver = function (entry) {
    if (navigator.onLine === false) {
      this.fail(entry);
      return;
    }
    if (this.joined && this.privacyShown && this.socket && this.socket.connected) {
      this.emit(entry);
      return;
    }
    this.outbox.push(entry.id);
    var self = this;
    setTimeout(function () {
      var at = self.outbox.indexOf(entry.id);
      if (at >= 0) {
        self.outbox.splice(at, 1);
        self.fail(entry);
      }
    }, SEND_TIMEOUT);
  };

  Widget.prototype.flush = function () {
    if (!this.privacyShown) {
      return; // nothing the person typed goes out before the privacy note is on screen
    }
    var self = this;
    this.outbox.splice(0).forEach(function (id) {
      var entry = self.message(id);
      if (entry && entry.state === "sending") {
        self.emit(entry);
      }
    });
  };

  Widget.prototype.emit = function (entry) {
    var self = this;
    var payload = { message: entry.send || entry.text, session_id: this.store.sessionId };
    payload[this.options.metadataKey] = { language: this.language };
    this.unacked[entry.id] = true;
    // The server acknowledges a message once it has handled it.
    this.socket.emit(this.options.userMessageEvent, payload, function () {
      if (self.unacked[entry.id]) {
        delete self.unacked[entry.id];
        self.markSent(entry);
      }
    });
  };

  Widget.prototype.message = function (id) {
    for (var i = 0; i < this.store.messages.length; i += 1) {
      if (this.store.messages[i].id === id) {
        return this.store.messages[i];
      }
    }
    return null;
  };

  Widget.prototype.markSent = function (entry) {
    if (entry.state) {
      delete entry.state;
      saveStore(this.store);
    }
  };

  // Messages emitted but not acknowledged when the connection goes, and those still
  // waiting for it: "not sent", with a button to send them again.
  Widget.prototype.failUnsent = function () {
    var self = this;
    Object.keys(this.unacked).forEach(function (id) {
      delete self.unacked[id];
      var entry = self.message(id);
      if (entry && entry.state === "sending") {
        self.fail(entry);
      }
    });
    if (navigator.onLine === false) {
      this.outbox.splice(0).forEach(function (id) {
        var entry = self.message(id);
        if (entry) {
          self.fail(entry);
        }
      });
    }
  };

  Widget.prototype.fail = function (entry) {
    entry.state = "failed";
    saveStore(this.store);
    this.waiting = false;
    clearTimeout(this.typingTimer);
    this.setStatus(this.socket && this.socket.connected ? this.handoffStatus() : this.strings.offline);
    this.updateEntry(entry);
  };

  Widget.prototype.retry = function (entry) {
    entry.state = "sending";
    entry.time = new Date().toISOString();
    saveStore(this.store);
    this.updateEntry(entry);
    this.showTyping();
    this.reconnectNow();
    this.deliver(entry);
    this.input.focus();
  };

  // ---- a new conversation -------------------------------------------------------

  // "Ny samtale" (or "/restart" typed): a new session on the same socket. The screen and
  // the stored messages are cleared, the token dropped; the greeting comes again.
  Widget.prototype.restart = function () {
    clearTimeout(this.typingTimer);
    this.waiting = false;
    this.outbox = [];
    this.unacked = {};
    this.turnStart = null;
    var texts = this.store.texts;
    this.store = newStore();
    this.store.open = !this.panel.hidden;
    this.store.texts = texts;
    saveStore(this.store);
    this.log.textContent = "";
    this.updateBadge();
    this.setStatus("");
    this.joined = false;
    if (this.socket && this.socket.connected) {
      this.restarting = true;
      this.requestSession();
    } else {
      this.connect();
      this.reconnectNow();
    }
    this.input.focus();
  };

  // ---- receiving ----------------------------------------------------------

  Widget.prototype.receive = function (message) {
    if (!message || typeof message !== "object" || this.restarting) {
      return; // (while restarting: a late reply in the conversation just left)
    }
    var text = typeof message.text === "string" ? message.text : "";
    var replies = message.quick_replies || message.buttons || [];
    // The handoff's marker: {"status": "waiting" | "live" | "ended", "staff": name}.
    var helpline = message.helpline && typeof message.helpline === "object" ? message.helpline : null;
    var staff = null;
    if (helpline) {
      if (helpline.status === "waiting") {
        this.store.handoff = { status: "waiting" };
      } else if (helpline.status === "live") {
        staff = isString(helpline.staff) ? helpline.staff : "Diabetesforeningen";
        this.store.handoff = { status: "live", staff: staff };
      } else if (helpline.status === "ended") {
        this.store.handoff = null;
      }
      saveStore(this.store);
    }
    if (!text && !replies.length) {
      return; // images, carousels and custom payloads: this assistant sends none
    }
    // A reply means the server had what was sent before it.
    var self = this;
    Object.keys(this.unacked).forEach(function (id) {
      delete self.unacked[id];
      var sent = self.message(id);
      if (sent) {
        self.markSent(sent);
      }
    });
    this.waiting = false;
    clearTimeout(this.typingTimer);
    this.setStatus(this.handoffStatus());
    var entry = { id: randomId(), from: staff ? "staff" : "bot", text: text, time: new Date().toISOString() };
    if (staff) {
      entry.staff = staff;
    }
    // The emergency reply's marker: {"call": "112"}.
    if (message.emergency && typeof message.emergency === "object") {
      entry.emergency = { call: CALL_NUMBER.test(message.emergency.call || "") ? message.emergency.call : null };
    }
    this.store.messages.push(entry);
    if (this.panel.hidden) {
      this.store.unread = (this.store.unread || 0) + 1;
      if (!this.store.firstUnread) {
        this.store.firstUnread = entry.id;
      }
      this.updateBadge();
    }
    saveStore(this.store);
    var node = this.renderMessage(entry, true);
    if (Array.isArray(replies)) {
      this.renderReplies("replies", replies, true);
    }
    if (!this.turnStart || !this.log.contains(this.turnStart)) {
      this.turnStart = node;
    }
    this.reveal(this.turnStart);
  };

  // While a person is awaited or writing: what the status line says instead of typing.
  Widget.prototype.handoffStatus = function () {
    var handoff = this.store.handoff;
    if (!handoff) {
      return "";
    }
    if (handoff.status === "live" && handoff.staff) {
      return this.strings.withStaff.replace("{name}", handoff.staff);
    }
    return this.strings.waitingStaff;
  };

  // ---- rendering ----------------------------------------------------------

  // One message: its bubble and, under it, the time (and "not sent" with a retry button).
  // `fresh`: it has just arrived (an emergency reply is then announced as an alert).
  Widget.prototype.renderMessage = function (message, fresh, before) {
    var s = this.strings;
    var from = message.from === "user" || message.from === "staff" ? message.from : "bot";
    var entry = el("div", { "class": "dfchat-entry dfchat-entry--" + from, "data-id": message.id });
    var bubble = el("div", { "class": "dfchat-message dfchat-message--" + from });
    var said = from === "user" ? s.you : s.bot;
    if (from === "staff") {
      said = s.staffSaid.replace("{name}", message.staff || "");
      bubble.appendChild(el("span", { "class": "dfchat-staff-name", "aria-hidden": "true" }, s.staff.replace("{name}", message.staff || "")));
    }
    if (message.greeting) {
      bubble.classList.add("dfchat-message--greeting");
    }
    bubble.appendChild(el("span", { "class": "dfchat-sr-only" }, said + " "));
    var body = el("span", { "class": "dfchat-text" });
    appendText(body, typeof message.text === "string" ? message.text : "", from !== "user", s);
    bubble.appendChild(body);
    if (message.emergency && from !== "user") {
      bubble.classList.add("dfchat-message--emergency");
      if (fresh) {
        bubble.setAttribute("role", "alert");
      }
      var number = message.emergency.call;
      if (number && CALL_NUMBER.test(number)) {
        var call = el("a", { "class": "dfchat-call", href: "tel:" + number });
        call.appendChild(phoneIcon());
        call.appendChild(el("span", {}, s.call.replace("{number}", number)));
        bubble.appendChild(call);
      }
    }
    entry.appendChild(bubble);
    entry.appendChild(el("div", { "class": "dfchat-meta" }));
    this.fillMeta(entry, message);
    if (before) {
      this.log.insertBefore(entry, before);
    } else {
      this.log.appendChild(entry);
    }
    return entry;
  };

  Widget.prototype.fillMeta = function (entry, message) {
    var meta = entry.querySelector(".dfchat-meta");
    meta.textContent = "";
    var date = message.time ? new Date(message.time) : null;
    if (date && !isNaN(date.getTime())) {
      meta.appendChild(el("span", { "class": "dfchat-sr-only" }, this.strings.sentAt + " "));
      meta.appendChild(el("time", { datetime: date.toISOString() }, clock(date, this.language)));
    }
    entry.classList.toggle("dfchat-entry--failed", message.state === "failed");
    if (message.state === "failed") {
      var self = this;
      meta.appendChild(el("span", { "class": "dfchat-not-sent" }, this.strings.notSent));
      var retry = el("button", { type: "button", "class": "dfchat-retry" }, this.strings.retry);
      retry.addEventListener("click", function () { self.retry(message); });
      meta.appendChild(retry);
    }
  };

  Widget.prototype.updateEntry = function (message) {
    var entry = this.entryFor(message.id);
    if (entry) {
      var hadFocus = entry.contains(document.activeElement);
      this.fillMeta(entry, message);
      if (hadFocus) {
        this.input.focus();
      }
    }
  };

  // Buttons under the last message: the assistant's quick replies, or the suggested
  // questions under the greeting. They stay over a reload until something is sent.
  Widget.prototype.renderReplies = function (kind, replies, store) {
    var buttons = (replies || []).filter(function (reply) {
      return reply && typeof reply.title === "string" && typeof reply.payload === "string";
    }).map(function (reply) {
      return { title: reply.title, payload: reply.payload };
    });
    if (!buttons.length) {
      return;
    }
    this.removeQuickReplies(true);
    var label = kind === "suggestions" ? this.strings.suggestions : this.strings.replies;
    var group = el("div", { "class": "dfchat-replies dfchat-replies--" + kind, role: "group", "aria-label": label });
    var self = this;
    buttons.forEach(function (reply) {
      var button = el("button", { type: "button", "class": "dfchat-reply" }, reply.title);
      button.addEventListener("click", function () {
        self.send(reply.title, reply.payload);
        self.input.focus();
      });
      group.appendChild(button);
    });
    this.log.appendChild(group);
    if (store) {
      this.store.replies = { kind: kind, items: buttons };
      saveStore(this.store);
    }
  };

  Widget.prototype.removeQuickReplies = function (keepStored) {
    Array.prototype.forEach.call(this.log.querySelectorAll(".dfchat-replies"), function (group) {
      group.parentNode.removeChild(group);
    });
    if (!keepStored && this.store.replies) {
      this.store.replies = null;
      saveStore(this.store);
    }
  };

  // ---- the public API -----------------------------------------------------

  var instance = null;

  // DFChat.init(options): builds the widget once (later calls do nothing).
  //   socketUrl        the Rasa server (default http://127.0.0.1:5005)
  //   socketPath       socket.io path on it (default /socket.io)
  //   language         "da" or "en"; default: the page's <html lang>
  //   socketClientUrl  the socket.io client (default ../vendor/socket.io.min.js beside this file)
  //   stylesheetUrl    the widget's CSS (default widget.css beside this file; null: the page styles it)
  function init(options) {
    if (instance || init.called) {
      return window.DFChat;
    }
    init.called = true;
    options = options || {};
    var settings = {
      socketUrl: options.socketUrl || "http://127.0.0.1:5005",
      socketPath: options.socketPath || "/socket.io",
      socketClientUrl: options.socketClientUrl || new URL("../vendor/socket.io.min.js", BASE).href,
      stylesheetUrl: options.stylesheetUrl === undefined ? new URL("widget.css", BASE).href : options.stylesheetUrl,
      userMessageEvent: options.userMessageEvent || "user_uttered",
      botMessageEvent: options.botMessageEvent || "bot_uttered",
      metadataKey: options.metadataKey || "customData",
      language: options.language
    };
    settings.styled = Promise.resolve();
    if (settings.stylesheetUrl && !document.querySelector("link[data-dfchat]")) {
      var link = el("link", { rel: "stylesheet", href: settings.stylesheetUrl, "data-dfchat": "" });
      settings.styled = new Promise(function (resolve) {
        link.addEventListener("load", function () { resolve(); });
        link.addEventListener("error", function () { resolve(); });
      });
      document.head.appendChild(link);
    }
    function start() {
      instance = new Widget(settings);
    }
    if (document.body) {
      start();
    } else {
      document.addEventListener("DOMContentLoaded", start);
    }
    return window.DFChat;
  }

  window.DFChat = {
    version: "1.1.0",
    init: init,
    open: function () { if (instance) { instance.open(true); } },
    close: function () { if (instance) { instance.close(); } },
    // Starts a new conversation, as the "Ny samtale" button does.
    restart: function () { if (instance) { instance.restart(); } },
    // True while the chat is in its conversation on the server (a reply can reach it).
    connected: function () { return !!(instance && instance.joined && instance.socket && instance.socket.connected); },
    // The conversation's ID in Rasa (the tracker's sender ID).
    sessionId: function () { return instance ? instance.store.sessionId : null; }
  };
})();
