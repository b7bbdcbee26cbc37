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

  var STRINGS = {
    da: {
      launcher: "Spørg om looping",
      title: "Diabetesforeningens chatassistent",
      close: "Luk chatten",
      log: "Samtale med chatassistenten",
      notice: "Assistenten svarer ud fra Diabetesforeningens budskabspapir om looping. " +
        "Den giver ingen råd om indstillinger eller insulindoser. Ved akut fare: ring 112.",
      input: "Skriv dit spørgsmål",
      placeholder: "Skriv dit spørgsmål …",
      send: "Send",
      you: "Du skrev:",
      bot: "Assistenten svarede:",
      replies: "Forslag til svar",
      connecting: "Forbinder …",
      offline: "Ingen forbindelse til chatassistenten. Prøver igen …",
      typing: "Assistenten skriver …",
      waitingStaff: "Venter på en medarbejder …",
      withStaff: "Du skriver med {name} fra rådgivningen",
      staff: "{name}, Diabetesforeningen",
      staffSaid: "{name} fra Diabetesforeningen svarede:",
      newWindow: "(åbner i et nyt vindue)"
    },
    en: {
      launcher: "Ask about looping",
      title: "Diabetesforeningen's chat assistant",
      close: "Close the chat",
      log: "Conversation with the chat assistant",
      notice: "The assistant answers from Diabetesforeningen's position paper on looping. " +
        "It gives no advice on settings or insulin doses. In an emergency, call 112.",
      input: "Type your question",
      placeholder: "Type your question …",
      send: "Send",
      you: "You wrote:",
      bot: "The assistant replied:",
      replies: "Suggested replies",
      connecting: "Connecting …",
      offline: "No connection to the chat assistant. Trying again …",
      typing: "The assistant is typing …",
      waitingStaff: "Waiting for a member of staff …",
      withStaff: "You are writing with {name} from the helpline",
      staff: "{name}, Diabetesforeningen",
      staffSaid: "{name} from Diabetesforeningen replied:",
      newWindow: "(opens in a new window)"
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

  function loadStore() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      if (stored && typeof stored.sessionId === "string" && Array.isArray(stored.messages)) {
        return stored;
      }
    } catch (e) { /* storage blocked or corrupt: start afresh */ }
    return { sessionId: null, open: false, messages: [] };
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

  function bubbleIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "dfchat-launcher-icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z");
    svg.appendChild(path);
    return svg;
  }

  // ---- the widget ---------------------------------------------------------

  function Widget(options) {
    this.options = options;
    this.language = options.language === "en" || options.language === "da" ? options.language : pageLanguage();
    this.strings = STRINGS[this.language];
    this.store = loadStore();
    if (!this.store.sessionId) {
      this.store.sessionId = randomId();
    }
    this.socket = null;
    this.joined = false; // in the conversation's room (session_confirm received)
    this.outbox = [];    // messages typed before that
    this.typingTimer = null;
    this.build();
    this.store.messages.forEach(function (message) {
      this.render(message.from, message.text, [], false, message.staff);
    }, this);
    if (this.store.open) {
      this.open(false);
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
    this.launcher.appendChild(el("span", {}, s.launcher));

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
    header.appendChild(el("h2", { id: "dfchat-title", "class": "dfchat-title" }, s.title));
    this.closeButton = el("button", { type: "button", "class": "dfchat-close", "aria-label": s.close });
    this.closeButton.appendChild(el("span", { "aria-hidden": "true" }, "×"));
    header.appendChild(this.closeButton);

    var notice = el("p", { id: "dfchat-notice", "class": "dfchat-notice" }, s.notice);

    this.log = el("div", {
      "class": "dfchat-log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": s.log,
      tabindex: "0"
    });

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
    this.panel.appendChild(notice);
    this.panel.appendChild(this.log);
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
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        self.close();
      }
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (text) {
        self.input.value = "";
        self.send(text, text);
      }
      self.input.focus();
    });
  };

  Widget.prototype.open = function (moveFocus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.root.classList.add("dfchat--open");
    this.store.open = true;
    saveStore(this.store);
    this.scrollToEnd();
    if (moveFocus) {
      this.input.focus();
    }
    this.connect();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.root.classList.remove("dfchat--open");
    this.store.open = false;
    saveStore(this.store);
    this.launcher.focus();
  };

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
      socket.on("connect", function () {
        // Joins the conversation's room again after every (re)connection.
        // The token proves that this tab opened the session (bot/channels/widget_sessions.py).
        socket.emit("session_request", { session_id: self.store.sessionId, session_token: self.store.sessionToken || null });
      });
      socket.on("session_token", function (token) {
        if (typeof token === "string" && token) {
          self.store.sessionToken = token;
          saveStore(self.store);
        }
      });
      socket.on("session_confirm", function (sessionId) {
        if (typeof sessionId === "string" && sessionId) {
          self.store.sessionId = sessionId;
          saveStore(self.store);
        }
        self.joined = true;
        self.setStatus(self.waiting ? self.strings.typing : self.handoffStatus());
        self.outbox.splice(0).forEach(function (payload) { self.emit(payload); });
      });
      socket.on("connect_error", function () { self.setStatus(self.strings.offline); });
      socket.on("disconnect", function () {
        self.joined = false;
        self.setStatus(self.strings.offline);
      });
      socket.on(self.options.botMessageEvent, function (message) { self.receive(message); });
    }).catch(function () {
      self.connecting = false;
      self.setStatus(self.strings.offline);
    });
  };

  Widget.prototype.emit = function (payload) {
    payload.session_id = this.store.sessionId;
    this.socket.emit(this.options.userMessageEvent, payload);
  };

  // `shown` is what the log shows (the button title), `message` what goes to the assistant.
  Widget.prototype.send = function (shown, message) {
    this.removeQuickReplies();
    this.render("user", shown, [], true);
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
    this.connect();
    var payload = { message: message };
    payload[this.options.metadataKey] = { language: this.language };
    if (this.joined) {
      this.emit(payload);
    } else {
      this.outbox.push(payload);
    }
  };

  Widget.prototype.receive = function (message) {
    if (!message || typeof message !== "object") {
      return;
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
        staff = typeof helpline.staff === "string" && helpline.staff ? helpline.staff : "Diabetesforeningen";
        this.store.handoff = { status: "live", staff: staff };
      } else if (helpline.status === "ended") {
        this.store.handoff = null;
      }
      saveStore(this.store);
    }
    if (!text && !replies.length) {
      return; // images, carousels and custom payloads: this assistant sends none
    }
    this.waiting = false;
    clearTimeout(this.typingTimer);
    this.setStatus(this.handoffStatus());
    this.render(staff ? "staff" : "bot", text, Array.isArray(replies) ? replies : [], true, staff);
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

  Widget.prototype.render = function (from, text, replies, store, staff) {
    var item = el("div", { "class": "dfchat-message dfchat-message--" + from });
    var said = from === "user" ? this.strings.you : this.strings.bot;
    if (from === "staff") {
      said = this.strings.staffSaid.replace("{name}", staff || "");
      item.appendChild(el("span", { "class": "dfchat-staff-name", "aria-hidden": "true" }, this.strings.staff.replace("{name}", staff || "")));
    }
    item.appendChild(el("span", { "class": "dfchat-sr-only" }, said + " "));
    var body = el("span", { "class": "dfchat-text" });
    appendText(body, text, from !== "user", this.strings);
    item.appendChild(body);
    this.log.appendChild(item);

    var buttons = replies.filter(function (reply) {
      return reply && typeof reply.title === "string" && typeof reply.payload === "string";
    });
    if (buttons.length) {
      this.removeQuickReplies();
      var group = el("div", { "class": "dfchat-replies", role: "group", "aria-label": this.strings.replies });
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
    }
    if (store) {
      this.store.messages.push(staff ? { from: from, text: text, staff: staff } : { from: from, text: text });
      saveStore(this.store);
    }
    this.scrollToEnd();
  };

  Widget.prototype.removeQuickReplies = function () {
    Array.prototype.forEach.call(this.log.querySelectorAll(".dfchat-replies"), function (group) {
      group.parentNode.removeChild(group);
    });
  };

  Widget.prototype.scrollToEnd = function () {
    this.log.scrollTop = this.log.scrollHeight;
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
    if (settings.stylesheetUrl && !document.querySelector("link[data-dfchat]")) {
      document.head.appendChild(el("link", { rel: "stylesheet", href: settings.stylesheetUrl, "data-dfchat": "" }));
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
    version: "1.0.0",
    init: init,
    open: function () { if (instance) { instance.open(true); } },
    close: function () { if (instance) { instance.close(); } },
    // The conversation's ID in Rasa (the tracker's sender ID).
    sessionId: function () { return instance ? instance.store.sessionId : null; }
  };
})();
