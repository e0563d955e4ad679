/* kubelearn — the learner pages' own script: progressive enhancement only, no inline script
   (the CSP allows none) and nothing htmx would have to evaluate (allowEval is off).

   The progress actions (learn/templates/learn/_actions.html) post in the background with
   htmx, which then replaces <main>. While one posts, htmx disables the action group
   (hx-disabled-elt); here the group also says it is busy, for assistive technology. Replacing
   <main> drops keyboard focus to <body>, so afterwards focus goes back where the learner can
   carry on:
   - the same item, if it is still on the page: the same action (Done stays Done, as
     "Save rating"), else its first button (after Start, that is Done);
   - else the item that took its place in the same list (its title link, so a screen reader
     reads what is there now);
   - else <main> itself, which begins with the message saying what happened.
   That message ("Marked … done") is inside the new <main>; a live region that arrives with
   new content is not announced by screen readers, so its text is also put in #announcer, a
   polite live region that stays on the page (learn/templates/learn/base.html).
   Without script the forms post and the page reloads, as every form does. */
(function () {
  "use strict";

  var pending = null;

  // The browser's time zone, for the server to show dates and times in (kubelearn/middleware.py
  // LearnerTimeZoneMiddleware): a learner in Los Angeles read a Not now "for tomorrow" as
  // the day after. Set when it is missing or has changed (travel); the next page uses it.
  (function rememberTimeZone() {
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return;
    }
    if (!/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
      return;
    }
    var current = document.cookie.split("; ").filter(function (pair) {
      return pair.indexOf("tz=") === 0;
    })[0];
    if (current !== "tz=" + zone) {
      document.cookie =
        "tz=" + zone + "; path=/; max-age=31536000; samesite=lax" +
        (window.location.protocol === "https:" ? "; secure" : "");
    }
  })();

  // A card's actions, or the "Rate it" buttons of a "Marked … done" message (base.html): after
  // a rating from there, focus had nowhere to go back to and fell to <body> (a walk-through's
  // next Tab reached the footer).
  function actionGroup(event) {
    var elt = event.detail && event.detail.elt;
    return elt instanceof Element
      ? elt.closest(".actions[data-resource], .message-rate[data-resource]")
      : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var group = actionGroup(event);
    if (!group) {
      return;
    }
    var form = event.detail.elt.closest("form");
    var item = group.closest("li");
    var list = item ? item.parentElement : null;
    group.setAttribute("aria-busy", "true");
    // htmx disables the group next, and a disabled button loses focus to <body>: a key pressed
    // meanwhile started from the page's top (a keyboard walk-through). The card holds it until
    // the swap puts it where it goes.
    var card = group.closest("article");
    if (card && group.contains(document.activeElement)) {
      card.setAttribute("tabindex", "-1");
      card.focus({ preventScroll: true });
    }
    pending = {
      resource: group.getAttribute("data-resource"),
      action: form ? form.getAttribute("data-action") : null,
      button: form ? form.querySelector("button") : null,
      list: list && list.id ? list.id : null,
      index: list ? Array.prototype.indexOf.call(list.children, item) : -1,
    };
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var group = actionGroup(event);
    if (!group) {
      return;
    }
    group.removeAttribute("aria-busy");
    if (!event.detail.successful && pending) {
      // Nothing was swapped: the same controls are usable again (htmx re-enables them).
      var button = pending.button;
      pending = null;
      if (button && button.isConnected) {
        button.focus();
      }
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    announce();
    if (!pending) {
      return;
    }
    var target = focusTarget(pending);
    pending = null;
    if (target) {
      target.focus();
    }
  });

  // The note form (learn/templates/learn/_note_form.html, data-note) posts the same way. After
  // the swap, focus goes back to its textarea, so the learner can go on writing. A note the
  // server refuses (400, too long; 409, changed in another tab since) is swapped in as well:
  // the page says why and keeps the text, where htmx would otherwise leave the old page and
  // say nothing.
  var notePending = false;

  function noteRefused(xhr) {
    return Boolean(xhr) && (xhr.status === 400 || xhr.status === 409);
  }

  function noteForm(event) {
    // beforeSwap is fired on the target (<main>): the form that posted is the request's elt.
    var detail = event.detail || {};
    var elt = (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
    return elt instanceof Element ? elt.closest("form[data-note]") : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (noteForm(event)) {
      notePending = true;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (noteForm(event) && !event.detail.successful && !noteRefused(xhr)) {
      notePending = false; // nothing comes to settle (offline, a server error)
    }
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (noteForm(event) && noteRefused(event.detail.xhr)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // An action posted from a page that is itself a refusal (Up next opened as /?minutes=0, a
  // 400 that says why) went through: the server redirected back to that page, which answers
  // 400 again. htmx took the 400 for the action's and a walk-through read "That did not go
  // through (error 400)" of an item marked done. A redirected answer is the page after the
  // action, shown as a browser would show it, with its message.
  function redirectedFromPost(detail) {
    var xhr = detail.xhr;
    var config = detail.requestConfig;
    if (!xhr || !xhr.responseURL || !config || String(config.verb).toLowerCase() !== "post") {
      return false;
    }
    var asked = new URL(config.path, window.location.href);
    var answered = new URL(xhr.responseURL);
    return answered.pathname + answered.search !== asked.pathname + asked.search;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail || {};
    var status = detail.xhr ? detail.xhr.status : 0;
    if (status >= 400 && status < 500 && redirectedFromPost(detail)) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!notePending) {
      return;
    }
    notePending = false;
    // A refused note says why beside the field, not in a message: that is what to hear.
    var problem = document.querySelector("#main form[data-note] .field-error .errorlist");
    if (problem) {
      say(problem.textContent.replace(/\s+/g, " ").trim());
    }
    var text = document.querySelector("#main form[data-note] textarea");
    if (text) {
      text.focus();
      // Where the learner stopped typing: the end of the note, not its first line.
      text.setSelectionRange(text.value.length, text.value.length);
    }
  });

  // Unsaved note text survives whatever replaces the page before Save: a progress action on
  // the same page (htmx replaces <main>, textarea and all), following a link and coming back,
  // a session that ended (Save goes to sign in, then back here). Each keystroke keeps the
  // text in sessionStorage (this tab only, gone when it closes), keyed by learner and
  // resource; when the page shows the note again and the kept text differs from what the
  // server has, the text is put back with a line saying it is not saved yet. The text
  // the server has saved clears it. Signing out clears every kept note: the next person at
  // this browser must not find them. The kept text goes with the version of the note it was
  // written over (the form's based_on), so a Save after another tab saved meanwhile is
  // refused with both texts shown, not written over the other one.
  var DRAFT_PREFIX = "kubelearn-note:";

  // A note as the server keeps it (services.note_text_normalised): "\n" line breaks, no
  // trailing whitespace, no leading blank lines. Typed text that differs from the saved note
  // only there is saved, not a change (a note ending with a line break read as unsaved).
  function noteNormalised(value) {
    return value
      .normalize("NFC")
      .replace(/\r\n?/g, "\n")
      .replace(/\s+$/, "")
      .replace(/^(?:[^\S\n]*\n)+/, "");
  }

  function draftRead(store, form) {
    var raw = store.getItem(draftKey(form));
    if (raw === null) {
      return null;
    }
    try {
      var kept = JSON.parse(raw);
      if (kept && typeof kept.text === "string") {
        return kept;
      }
    } catch (error) {
      // kept by an earlier version of this script: the text alone
    }
    return { text: raw, base: null };
  }

  function draftWrite(store, form, text) {
    var base = form.querySelector("input[name=based_on]");
    try {
      store.setItem(draftKey(form), JSON.stringify({ text: text, base: base ? base.value : null }));
    } catch (error) {
      // storage full: the text is still in the field
    }
  }

  function drafts() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null; // storage blocked: notes work as before, without this safety net
    }
  }

  function draftKey(form) {
    return DRAFT_PREFIX + form.getAttribute("data-note-key");
  }

  function noteDraftRestore() {
    var store = drafts();
    var form = document.querySelector("#main form[data-note][data-note-key]");
    var text = form ? form.querySelector("textarea") : null;
    if (!store || !text) {
      return;
    }
    if (form.querySelector(".field-error")) {
      // A refused note comes back with the text as typed: that is the newest, and still
      // unsaved; after a 409 it is now written over the version the page shows.
      draftWrite(store, form, text.value);
      return;
    }
    var kept = draftRead(store, form);
    if (kept === null) {
      return;
    }
    if (noteNormalised(kept.text) === noteNormalised(text.defaultValue)) {
      store.removeItem(draftKey(form)); // saved as typed
      return;
    }
    text.value = kept.text;
    noteCount(text, true);
    var base = form.querySelector("input[name=based_on]");
    if (base && kept.base !== null && kept.base !== undefined) {
      base.value = kept.base;
    }
    if (!form.querySelector(".note-unsaved")) {
      var line = document.createElement("p");
      line.className = "note-unsaved";
      line.textContent = "Your note has changes that are not saved yet: Save keeps them.";
      text.insertAdjacentElement("afterend", line);
    }
  }

  // How long the note is, near and over its limit (services.note_set counts the text as the
  // server keeps it, in characters, so an emoji is one): a paste over the limit is kept
  // whole and said to be too long, rather than cut by maxlength without a word.
  function noteCount(text, quiet) {
    var max = Number(text.getAttribute("data-max-chars"));
    var line = text.form ? text.form.querySelector(".note-count") : null;
    if (!max || !line) {
      return;
    }
    var length = Array.from(noteNormalised(text.value)).length;
    var wasOver = line.classList.contains("note-count-over");
    var over = length > max;
    // Refused by the server, the field says why above it: the count alone, not a second
    // sentence of the same (a walk-through read both).
    var refused = Boolean(text.closest(".field-error"));
    line.hidden = length < max * 0.9;
    line.classList.toggle("note-count-over", over);
    line.textContent =
      over && !refused
        ? length.toLocaleString("en") + " characters: " + (length - max).toLocaleString("en") +
          " over the " + max.toLocaleString("en") + " a note can hold. Shorten it to save it."
        : length.toLocaleString("en") + " of " + max.toLocaleString("en") + " characters";
    if (over && !wasOver && !quiet) {
      say(line.textContent);
    }
  }

  // On a new or swapped page: the refusal's own message is what to hear then.
  function noteCountAll() {
    document.querySelectorAll("#main textarea[data-max-chars]").forEach(function (text) {
      noteCount(text, true);
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target instanceof HTMLTextAreaElement && event.target.hasAttribute("data-max-chars")) {
      noteCount(event.target);
    }
  });
  document.addEventListener("htmx:afterSettle", noteCountAll);

  document.addEventListener("input", function (event) {
    var text = event.target;
    var form = text instanceof HTMLTextAreaElement ? text.closest("form[data-note-key]") : null;
    var store = drafts();
    if (!form || !store) {
      return;
    }
    var unchanged = noteNormalised(text.value) === noteNormalised(text.defaultValue);
    if (unchanged && !form.querySelector(".field-error")) {
      store.removeItem(draftKey(form));
    } else {
      draftWrite(store, form, text.value);
    }
  });

  // Browse's filters leave out what is not chosen, so the address reads /browse/?search=rbac,
  // not ...&sort=&stage=&kind=&area=&tag=&author= (awkward to share, a walk-through said).
  // Without script the empty values are sent, and the page treats them as no filter.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("form.filters[method='get']")) {
      return;
    }
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && !field.disabled && field.value === "" && field.type !== "submit") {
        field.disabled = true;
        // Enabled again at once: the form is submitted with the values it has now, and a page
        // restored from the back/forward cache shows its fields usable.
        window.setTimeout(function () {
          field.disabled = false;
        }, 0);
      }
    });
  });

  function draftsForget() {
    var store = drafts();
    if (!store) {
      return;
    }
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(DRAFT_PREFIX) === 0) {
        store.removeItem(key);
      }
    }
  }

  document.addEventListener("submit", function (event) {
    if (event.target instanceof HTMLFormElement && event.target.hasAttribute("data-signout")) {
      draftsForget();
    }
  });

  // The page after an account's deletion (its message is marked): nothing of it stays here.
  function draftsForgetIfAsked() {
    if (document.querySelector("[data-forget-drafts]")) {
      draftsForget();
    }
  }

  document.addEventListener("htmx:afterSettle", noteDraftRestore);

  // An action htmx posted that the server refused (403: a stale CSRF token, after signing out
  // and in again in another tab) or failed on: htmx swaps nothing and would say nothing. A
  // message at the top of <main> says so; role="alert" has it announced. Without script the
  // browser shows the server's own page (learn/templates/learn/csrf_failure.html).
  function requestError(text) {
    var main = document.getElementById("main");
    if (!main) {
      return;
    }
    var old = document.getElementById("request-error");
    if (old) {
      old.remove();
    }
    var box = document.createElement("div");
    box.id = "request-error";
    box.className = "callout callout-error";
    box.setAttribute("role", "alert");
    main.insertBefore(box, main.firstChild);
    // Filled once it is on the page, so screen readers notice the change and read it.
    window.setTimeout(function () {
      var message = document.createElement("p");
      message.textContent = text;
      box.appendChild(message);
      // In view even when the button was far down (on a phone): until the page is reloaded,
      // its other actions would fail the same way. Scrolled after htmx:afterRequest has put
      // focus back on the button (which would scroll back to it); focus stays there.
      box.scrollIntoView({ block: "nearest" });
    }, 50);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    var source = event.detail && event.detail.elt;
    var note = source && source.closest ? source.closest("form[data-note]") : null;
    var text;
    if (status === 403 && note) {
      // Saving again could only fail the same way, and "reload" alone read as "lose what I
      // typed" (a walk-through tried Save twice): the draft kept for this tab brings it back.
      text =
        "Your note is not saved yet: the page is out of date (you signed out or in since it " +
        "was loaded). Reload the page: your text is kept in this tab and comes back in the " +
        "box, then save it again.";
    } else if (status === 403) {
      text = "That did not go through: the page is out of date. Reload the page and try again.";
    } else {
      text = "That did not go through (error " + status + "). Try again.";
    }
    // A second refusal of the same kind replaced the first with the same words: nothing on
    // the page changed, and the click seemed not to have happened (a walk-through).
    var old = document.querySelector("#request-error p");
    if (old && old.textContent.indexOf(text) === 0) {
      text += " (Refused again.)";
    }
    requestError(text);
  });

  document.addEventListener("htmx:sendError", function () {
    requestError("That did not go through: kubelearn could not be reached. Try again.");
  });

  function announce(delay) {
    var messages = document.querySelector("#main .messages");
    if (!messages) {
      say("");  // an earlier message ("Note saved.") must not be read again as this one's
      return;
    }
    // The messages' words, without their Undo and dismiss buttons (those are there to be found),
    // and where to rate what was just marked done: focus is on the next card by then, below.
    var copy = messages.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("form, button"), function (control) {
      control.remove();
    });
    var text = copy.textContent.replace(/\s+/g, " ").trim();
    var rate = messages.querySelector(".message-rate[data-announce]");
    say(rate ? text + " " + rate.getAttribute("data-announce") : text, delay);
  }

  function say(text, delay) {
    var announcer = document.getElementById("announcer");
    if (!announcer) {
      return;
    }
    // Emptied first, so the same message twice in a row (two items marked done) is read twice.
    announcer.textContent = "";
    if (text) {
      window.setTimeout(function () {
        announcer.textContent = text;
      }, delay || 50);
    }
  }

  // A message that offers Undo, or says what Undo did, sticks to the top of the page
  // (kubelearn.css) so that it is in sight wherever the page was; on a phone it covers part of
  // the screen, so it can be put away. Added here: without script there is nothing to put it away with.
  function dismissible() {
    Array.prototype.forEach.call(
      document.querySelectorAll("#main .message-sticky:not([data-dismissible])"),
      function (message) {
        message.setAttribute("data-dismissible", "");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "message-dismiss";
        button.setAttribute("aria-label", "Dismiss this message");
        button.textContent = "\u00d7";
        button.addEventListener("click", function () {
          dismiss(message, true);
        });
        message.appendChild(button);
      }
    );
  }

  // Put a sticky message away; focus goes to <main> only when it was in the message (its
  // buttons go with it), else it stays where the learner is.
  function dismiss(message, refocus) {
    var messages = message.closest(".messages");
    message.remove();
    if (messages && !messages.querySelector(".message")) {
      messages.remove();
    }
    var main = document.getElementById("main");
    if (main && refocus) {
      main.focus({ preventScroll: true });
    }
  }

  // Escape puts the sticky message away too, as dialogs and toasts do (a walk-through looked
  // for it on a phone's keyboard), unless Escape is for something else: an open "Not now"
  // (below) or a field being typed in.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Escape" || event.defaultPrevented || !(target instanceof Element)) {
      return;
    }
    if (target.closest("details[open], input, textarea, select")) {
      return;
    }
    var message = document.querySelector("#main .message-sticky[data-dismissible]");
    if (message) {
      dismiss(message, message.contains(target));
    }
  });

  document.addEventListener("htmx:afterSettle", dismissible);

  // The sticky message follows the learner only while they stay near where they acted: once
  // they scroll on by a screen they are reading again, and it stays at the top of the page
  // instead of covering what they read (on a phone it covered card headings until closed, in
  // a walk-through). Where it started is taken after the frame in which focus settles.
  var RELEASED = "messages-released";
  function stuckMessages() {
    var messages = document.querySelector("#main .messages");
    return messages && messages.querySelector(".message-sticky") && !messages.classList.contains(RELEASED)
      ? messages
      : null;
  }
  function stickFrom() {
    window.requestAnimationFrame(function () {
      var messages = stuckMessages();
      if (messages) {
        messages.setAttribute("data-stuck-at", String(window.scrollY));
      }
    });
  }
  document.addEventListener("htmx:afterSettle", function () {
    window.setTimeout(stickFrom, 100);
  });
  window.addEventListener(
    "scroll",
    function () {
      var messages = stuckMessages();
      if (!messages || !messages.hasAttribute("data-stuck-at")) {
        return;
      }
      var from = Number(messages.getAttribute("data-stuck-at"));
      if (Math.abs(window.scrollY - from) > window.innerHeight) {
        messages.classList.add(RELEASED);
      }
    },
    { passive: true }
  );

  // A sticky message (.message-sticky) covers the top of the screen, and a browser counts an
  // element under it as in view: it neither scrolls to it when focus moves there by script
  // (the card that took a done item's place) nor by Shift+Tab. Whatever gets focus under the
  // message, or off-screen, is scrolled to just below it. A control inside a card brings the
  // card's top into view with it when both fit below the message: on a phone the message
  // otherwise covered the title of the card just started, above its focused Done button, and
  // the badges above a tall card's focused title.
  function clearOfMessage(element) {
    if (!(element instanceof Element) || !element.closest("#main") || element.closest(".messages")) {
      return;
    }
    var sticky = stuckMessages();
    if (!sticky) {
      return;
    }
    var room = sticky.getBoundingClientRect().bottom + 8;
    var box = element.getBoundingClientRect();
    var card = element.closest(".card");
    // What to bring below the message with the focused element, the first that fits: the
    // heading over a list's first card (a walk-through found "Reading now" under the message
    // after Start), then the card.
    var anchors = [];
    var list = card ? card.closest("#reading-list, #queue-list") : null;
    if (list && list.firstElementChild && list.firstElementChild.contains(card)) {
      var heading = list.id === "reading-list"
        ? document.getElementById("reading-now-title")
        : document.querySelector("h2.queue-title:not(.visually-hidden)");
      if (heading) {
        anchors.push(heading);
      }
    }
    if (card) {
      anchors.push(card);
    }
    for (var i = 0; i < anchors.length; i++) {
      var top = anchors[i].getBoundingClientRect().top;
      if (top < room && box.bottom - (top - room) <= window.innerHeight - 8) {
        window.scrollBy(0, top - room);
        return;
      }
    }
    if (box.top < room || box.top > window.innerHeight - 16) {
      window.scrollBy(0, box.top - room);
    }
  }

  // Copy buttons (data-copy="<id of the field>"), shown only where the browser can copy. The
  // result is said in the button and read out; a read-only field selects its whole text on
  // focus, for copying by hand.
  function copyButtons() {
    if (!navigator.clipboard || !window.isSecureContext) {
      return;
    }
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    var field = button ? document.getElementById(button.getAttribute("data-copy")) : null;
    if (!field) {
      return;
    }
    navigator.clipboard.writeText(field.value).then(
      function () {
        say("Copied your feed address.");
        button.firstChild.textContent = "Copied";
      },
      function () {
        field.focus();
        field.select();
        say("Could not copy: the address is selected, copy it from there.");
      }
    );
  });

  // Escape closes an open "Not now" from inside it, focus back on its summary: a walk-through's
  // keyboard learner changed her mind and found the three days still open.
  document.addEventListener("keydown", function (event) {
    var details = event.key === "Escape" && event.target instanceof Element
      ? event.target.closest("details.not-now[open]")
      : null;
    if (!details) {
      return;
    }
    details.open = false;
    details.querySelector("summary").focus();
  });

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-select-all")) {
      target.select();
    }
  });

  document.addEventListener("focusin", function (event) {
    var element = event.target;
    // After the browser's own scrolling for this focus, if any.
    window.requestAnimationFrame(function () {
      clearOfMessage(element);
    });
  });

  // The forms htmx does not post (the Path page's Done and "I know these", Undo) reload the
  // page, and focus starts at the top with nothing read out. After such a reload the message
  // is announced, and focus goes where the page was asked to show (the step or the stage the
  // form came back to), else to <main>, which begins with the message.
  // Browse's search and filters reload the page, and focus started at its top with nothing
  // read out (a keyboard walk-through tabbed past the header and seven filters to reach the
  // results): after one, focus goes to the results' count, which is read, above the first.
  var SEARCHED = "kubelearn-searched";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.matches('form[role="search"]')) {
      try {
        window.sessionStorage.setItem(SEARCHED, window.location.pathname);
      } catch (error) {
        // Storage refused (a private window's quota): focus starts at the top, as before.
      }
    }
  });

  function searched() {
    var from = null;
    try {
      from = window.sessionStorage.getItem(SEARCHED);
      window.sessionStorage.removeItem(SEARCHED);
    } catch (error) {
      return;
    }
    var count = document.querySelector("#main .results-count");
    if (from !== window.location.pathname || !count) {
      return;
    }
    count.setAttribute("tabindex", "-1");
    count.focus();
  }

  // A long note on the notes list is folded to its first lines, with a button to show it
  // whole (notes.html marks it): a 9,000-character note filled many phone screens.
  function noteFolds() {
    document.querySelectorAll("button.note-unfold").forEach(function (button) {
      var text = document.getElementById(button.getAttribute("aria-controls"));
      if (!text) {
        return;
      }
      text.classList.add("note-folded");
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("button.note-unfold") : null;
    var text = button ? document.getElementById(button.getAttribute("aria-controls")) : null;
    if (!text) {
      return;
    }
    var folded = text.classList.toggle("note-folded");
    button.setAttribute("aria-expanded", folded ? "false" : "true");
    button.textContent = folded ? "Show the whole note" : "Show less";
    if (folded) {
      text.scrollIntoView({ block: "nearest" });
    }
  });

  // Each password box gets a Show button (sign-in, register, reset, change, delete): on a
  // phone keyboard a typo in a hidden password sent the whole form back, emptied. Its name
  // says what it will do ("Show password" / "Hide password"), as GOV.UK's does.
  function passwordToggles() {
    var focused = document.activeElement;
    document.querySelectorAll('#main input[type="password"]').forEach(function (input) {
      if (!input.id || input.parentNode.classList.contains("password-reveal")) {
        return;
      }
      var wrap = document.createElement("span");
      wrap.className = "password-reveal";
      input.parentNode.insertBefore(wrap, input);
      wrap.appendChild(input);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-quiet password-toggle";
      button.setAttribute("aria-controls", input.id);
      button.setAttribute("aria-label", "Show password");
      button.textContent = "Show";
      wrap.appendChild(button);
    });
    // Moving a box into its wrapper takes its focus away: the page's autofocus (the first field,
    // or the one a refused form's error is on) was lost to <body>, and a keyboard's first Tab
    // then skipped that field (a walk-through with a screen reader).
    if (document.activeElement && document.activeElement !== document.body) {
      return;
    }
    var autofocus = document.querySelector("#main [autofocus]");
    var back = focused && focused !== document.body && document.contains(focused) ? focused : autofocus;
    if (back) {
      back.focus();
    }
  }

  // A form sent back with errors says so in the page's title, the first thing a screen reader
  // reads of a new page (the sign-up page came back as "Sign up · kubelearn" and nothing told
  // a walk-through's screen-reader user it had failed). As GOV.UK's pages do.
  function titleSaysErrors() {
    if (document.querySelector("#main .errorlist") && document.title.indexOf("Error: ") !== 0) {
      document.title = "Error: " + document.title;
    }
  }

  function passwordShown(button, shown) {
    var input = document.getElementById(button.getAttribute("aria-controls"));
    if (!input) {
      return;
    }
    input.type = shown ? "text" : "password";
    button.textContent = shown ? "Hide" : "Show";
    button.setAttribute("aria-label", shown ? "Hide password" : "Show password");
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("button.password-toggle") : null;
    if (!button) {
      return;
    }
    var input = document.getElementById(button.getAttribute("aria-controls"));
    passwordShown(button, Boolean(input) && input.type === "password");
    if (input) {
      input.focus();
    }
  });

  // Sent as a password again: a browser offers to save a password field, not a text field,
  // and restores a text field's value from its history.
  document.addEventListener("submit", function (event) {
    if (!(event.target instanceof HTMLFormElement)) {
      return;
    }
    event.target.querySelectorAll("button.password-toggle").forEach(function (button) {
      passwordShown(button, false);
    });
  }, true);

  function loaded() {
    draftsForgetIfAsked();
    passwordToggles();
    titleSaysErrors();
    noteFolds();
    copyButtons();
    dismissible();
    window.setTimeout(stickFrom, 500);
    noteDraftRestore();
    noteCountAll();
    searched();
    var main = document.getElementById("main");
    if (!main || !main.querySelector(".messages")) {
      return;
    }
    announce(400);  // later than after a swap: the live region must be noticed first
    var id = window.location.hash ? decodeURIComponent(window.location.hash.slice(1)) : "";
    var target = id ? document.getElementById(id) : null;
    if (target && main.contains(target)) {
      if (!target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus({ preventScroll: true });
    } else {
      main.focus({ preventScroll: true });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", loaded);
  } else {
    loaded();
  }

  function focusTarget(done) {
    var main = document.getElementById("main");
    if (!main) {
      return null;
    }
    var groups = main.querySelectorAll(".actions[data-resource]");
    for (var i = 0; i < groups.length; i++) {
      if (groups[i].getAttribute("data-resource") === done.resource) {
        return (
          groups[i].querySelector('form[data-action="' + done.action + '"] button') ||
          groups[i].querySelector("button")
        );
      }
    }
    var list = done.list ? document.getElementById(done.list) : null;
    if (list && list.children.length && done.index >= 0) {
      var item = list.children[Math.min(done.index, list.children.length - 1)];
      var link = item.querySelector(".card-title a");
      if (link) {
        return link;
      }
    }
    // Its list went with it (the last card of Reading now, marked done): what comes next is
    // Up next's first card. Focus on <main> left a keyboard learner at the page's top.
    var next = list ? null : main.querySelector("#queue-list .card-title a");
    return next || main;
  }
})();
