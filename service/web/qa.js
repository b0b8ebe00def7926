// The QA review page. Plain JavaScript, no build step; speaks the QA API under /qa.
//
// How an answer travels: a key press puts it in the outbox (persisted in localStorage) with a
// "due" time HOLD_MS ahead and shows the next snapshot at once. Until it is due the answer can
// be undone. The sender delivers due answers one at a time, in order; a network failure or a
// 5xx is retried with backoff, a 2xx or a 409 (already recorded: an earlier try got through)
// counts as delivered. So an answer is neither lost nor counted twice.
"use strict";

(() => {
  const USER_KEY = "rp.qa.username";
  const API_KEY = "rp.qa.apiKey"; // sent as a bearer token when the server has API_KEYS on
  const OUTBOX_KEY = "rp.qa.outbox";
  const TOTALS_KEY = "rp.qa.sessionTotals"; // session id -> snapshots handed out
  const USERNAME = /^[A-Za-z0-9._-]{1,64}$/;
  const PREFETCH_AHEAD = 3;
  const RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];

  const HOLD_MS = (() => {
    // ?hold=MS (tests, impatient people) over <html data-hold-ms>; 0 to 60 s.
    const raw = new URLSearchParams(location.search).get("hold") ?? document.documentElement.dataset.holdMs;
    const ms = Number(raw);
    return Number.isFinite(ms) && ms >= 0 && ms <= 60000 ? ms : 3000;
  })();

  const $ = (id) => document.getElementById(id);

  // -- storage ---------------------------------------------------------------------------

  const store = {
    get(key, fallback) {
      try {
        const raw = localStorage.getItem(key);
        return raw === null ? fallback : JSON.parse(raw);
      } catch {
        return fallback;
      }
    },
    set(key, value) {
      try {
        localStorage.setItem(key, JSON.stringify(value));
      } catch {
        // Private mode or full: the in-memory copy still works for this page.
      }
    },
  };

  // -- API -------------------------------------------------------------------------------

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function withKey(headers) {
    const key = store.get(API_KEY, null);
    if (key) headers.authorization = `Bearer ${key}`;
    return headers;
  }

  async function api(method, path, { user = state.user, body, keepalive = false } = {}) {
    const headers = withKey({ username: user, accept: "application/json" });
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
      cache: "no-store",
    });
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      throw new HttpError(response.status, (data && data.error) || `HTTP ${response.status}`);
    }
    return data;
  }

  // -- state -----------------------------------------------------------------------------

  const state = {
    user: null,
    screen: null,
    session: null, // {id, total, before, items: [...]}: before = answered before this page
    index: 0, // position of the snapshot on screen in session.items
    ready: false, // the snapshot on screen has loaded (answers wait for it)
    answers: [], // this page's answers, newest last: {entry, item}
    started: 0, // when this page's work on the session began (for the pace)
    lastScreen: "start",
  };

  // -- outbox: answers waiting to be sent ------------------------------------------------

  const outbox = {
    // Answers a previous visit left unsent: due now (their undo window went with that page).
    entries: store.get(OUTBOX_KEY, [])
      .filter((e) => e && USERNAME.test(e.user) && Number.isInteger(e.snapshot_id))
      .map((e) => ({ ...e, due: Math.min(Number(e.due) || 0, Date.now()) })),
    busy: false,
    timer: 0,
    failing: false,

    save() {
      store.set(
        OUTBOX_KEY,
        this.entries.map(({ user, session_id, snapshot_id, is_match, due }) => ({
          user, session_id, snapshot_id, is_match, due,
        })),
      );
      renderSync();
    },
    add(entry) {
      this.entries.push(entry);
      this.save();
      this.schedule();
    },
    // The newest answer, if it is still held (not due, not in flight): it may be taken back.
    takeBack(entry) {
      const last = this.entries[this.entries.length - 1];
      if (last !== entry || entry.inflight || entry.due <= Date.now()) return false;
      this.entries.pop();
      this.save();
      this.schedule();
      return true;
    },
    pendingFor(sessionId) {
      return this.entries.filter((e) => e.session_id === sessionId);
    },
    schedule(delay) {
      clearTimeout(this.timer);
      const head = this.entries[0];
      if (this.busy || !head) return;
      const wait = delay ?? Math.max(0, Math.max(head.due, head.retryAt || 0) - Date.now());
      this.timer = setTimeout(() => this.pump(), wait);
    },
    async pump() {
      const head = this.entries[0];
      if (this.busy || !head) return;
      if (Math.max(head.due, head.retryAt || 0) > Date.now()) return this.schedule();
      this.busy = true;
      head.inflight = true;
      renderSync();
      let outcome;
      let error = null;
      try {
        await api("PATCH", `/qa/session/${head.session_id}/snapshot/${head.snapshot_id}`, {
          user: head.user,
          body: { is_match: head.is_match },
        });
        outcome = "delivered";
      } catch (exc) {
        error = exc;
        if (exc instanceof HttpError && exc.status === 409) outcome = "delivered";
        else if (exc instanceof HttpError && (exc.status === 401 || exc.status === 403)) {
          // A missing or wrong API key: keep the answer until a valid key is entered.
          outcome = "retry";
          showBanner("The server refused the API key. Answers are kept: use Switch user to enter a valid key.");
        }
        else if (!(exc instanceof HttpError) || exc.status >= 500 || exc.status === 408 || exc.status === 429) outcome = "retry";
        else outcome = "rejected";
      }
      head.inflight = false;
      this.busy = false;
      if (outcome === "retry") {
        head.attempts = (head.attempts || 0) + 1;
        head.retryAt = Date.now() + RETRY_MS[Math.min(head.attempts, RETRY_MS.length) - 1];
        this.failing = true;
      } else {
        this.failing = false;
        this.entries.shift();
        if (outcome === "rejected") rejected(head, error);
        this.save();
        if (!this.entries.length) onOutboxEmpty();
      }
      renderSync();
      this.schedule();
    },
    // The tab is going away: send what is held now (without waiting for the undo window).
    // The entries stay persisted; the next visit re-sends them, and a 409 then says "done".
    flushOnExit() {
      for (const e of this.entries) {
        if (e.inflight) continue;
        fetch(`/qa/session/${e.session_id}/snapshot/${e.snapshot_id}`, {
          method: "PATCH",
          headers: withKey({ username: e.user, "content-type": "application/json" }),
          body: JSON.stringify({ is_match: e.is_match }),
          keepalive: true,
        }).catch(() => {});
      }
    },
  };

  function rejected(entry, error) {
    // 404: the snapshot is no longer in an open session of this user (idle past the TTL).
    // Later answers of that session would fail the same way: drop them and say so.
    const dropped = 1 + outbox.entries.filter((e) => e.session_id === entry.session_id).length;
    outbox.entries = outbox.entries.filter((e) => e.session_id !== entry.session_id);
    const why = error instanceof HttpError && error.status === 404
      ? "the session expired or was closed"
      : error.message;
    showBanner(`${dropped} answer${dropped === 1 ? " was" : "s were"} not recorded: ${why}. Start a new session to go on.`);
    if (state.session && state.session.id === entry.session_id) {
      state.session = null;
      if (state.screen === "review" || state.screen === "done") goStart();
    }
  }

  function onOutboxEmpty() {
    if (state.screen === "done") renderDone();
  }

  // -- screens ---------------------------------------------------------------------------

  const screens = ["signin", "start", "review", "done", "leaderboard"];

  function show(name) {
    if (state.screen !== "leaderboard" && name === "leaderboard") state.lastScreen = state.screen;
    state.screen = name;
    for (const s of screens) $(`screen-${s}`).hidden = s !== name;
    document.body.dataset.screen = name;
    $("progress").hidden = !(name === "review" || name === "done");
    $("user-nav").hidden = name === "signin";
    if (name !== "review") clearFeedback();
  }

  function showBanner(text) {
    const banner = $("banner");
    banner.textContent = text;
    banner.hidden = false;
  }

  function hideBanner() {
    $("banner").hidden = true;
  }

  // What just happened, said twice: on the undo button (where the eye goes to take an answer
  // back; a bar shrinks over the undo window) and to screen readers. Nothing covers the images.
  let feedbackTimer = 0;

  function feedback(text, { label = text, holdMs = 0 } = {}) {
    $("announce").textContent = text;
    $("undo-label").textContent = label;
    const bar = $("undo-timer");
    bar.style.animation = "none";
    void bar.offsetWidth; // restart the animation
    bar.style.animation = holdMs > 0 ? `shrink ${holdMs}ms linear forwards` : "none";
    bar.hidden = holdMs <= 0;
    clearTimeout(feedbackTimer);
    feedbackTimer = setTimeout(clearFeedback, holdMs > 0 ? holdMs : 1600);
  }

  function clearFeedback() {
    clearTimeout(feedbackTimer);
    $("undo-label").textContent = "Undo";
    $("undo-timer").hidden = true;
  }

  function renderSync() {
    const sync = $("sync");
    if (!state.user) {
      sync.hidden = true;
      return;
    }
    const n = outbox.entries.length;
    sync.hidden = false;
    sync.classList.toggle("warn", outbox.failing);
    sync.classList.toggle("ok", n === 0);
    if (n === 0) sync.textContent = "All answers saved";
    else if (outbox.failing) sync.textContent = `Connection problem · retrying ${n} answer${n === 1 ? "" : "s"}`;
    else sync.textContent = `Sending ${n} answer${n === 1 ? "" : "s"}…`;
    $("btn-undo").disabled = !canUndo();
  }

  // -- sign in ---------------------------------------------------------------------------

  function signIn(name) {
    state.user = name;
    store.set(USER_KEY, name);
    $("whoami").textContent = name;
    renderSync();
    goStart();
  }

  function goSignIn() {
    state.user = null;
    state.session = null;
    show("signin");
    renderSync();
    const input = $("username");
    input.value = "";
    $("api-key").value = store.get(API_KEY, null) || "";
    input.focus();
  }

  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("username").value.trim();
    const error = $("signin-error");
    if (!USERNAME.test(name)) {
      error.textContent = "Use 1 to 64 letters, digits, dots, underscores or dashes.";
      error.hidden = false;
      $("username").setAttribute("aria-invalid", "true");
      return;
    }
    error.hidden = true;
    $("username").removeAttribute("aria-invalid");
    store.set(API_KEY, $("api-key").value.trim() || null);
    signIn(name);
  });

  $("sign-out").addEventListener("click", () => {
    store.set(USER_KEY, null);
    hideBanner();
    goSignIn();
  });

  // -- start or resume -------------------------------------------------------------------

  let openSession = null; // the server's unfinished session, when there is one
  let unreachable = false; // the last check failed: the start button checks again

  async function goStart() {
    show("start");
    const button = $("start-button");
    const text = $("start-text");
    const error = $("start-error");
    $("start-title").textContent = `Ready to review, ${state.user}`;
    error.hidden = true;
    button.disabled = true;
    text.textContent = "Checking for an unfinished session…";
    openSession = null;
    unreachable = false;
    try {
      openSession = await api("GET", "/qa/session");
    } catch (exc) {
      if (!(exc instanceof HttpError && exc.status === 404)) {
        unreachable = true;
        text.textContent = "";
        const refused = exc instanceof HttpError && (exc.status === 401 || exc.status === 403);
        error.textContent = refused
          ? `The server refused the API key (${exc.message}). Use Switch user to enter a valid one.`
          : `Could not reach the server (${exc.message}). Try again.`;
        error.hidden = false;
        button.textContent = "Try again";
        button.disabled = false;
        button.focus();
        return;
      }
    }
    if (state.screen !== "start") return;
    if (openSession) {
      const left = unanswered(openSession).length;
      text.textContent = `You have an unfinished session: ${left} snapshot${left === 1 ? "" : "s"} left.`;
      button.textContent = "Resume the session";
    } else {
      text.textContent = "A session hands you a batch of snapshots to compare with their product.";
      button.textContent = "Start a session";
    }
    button.disabled = false;
    button.focus();
  }

  // The session's snapshots minus those answered here but not yet delivered.
  function unanswered(session) {
    const held = new Set(outbox.pendingFor(session.session_id).map((e) => e.snapshot_id));
    return session.snapshots.filter((s) => !held.has(s.snapshot_id));
  }

  async function startOrResume() {
    const button = $("start-button");
    const error = $("start-error");
    hideBanner();
    if (unreachable) return goStart();
    button.disabled = true;
    error.hidden = true;
    let session = openSession;
    let fresh = false;
    try {
      if (!session) {
        try {
          session = await api("POST", "/qa/session");
          fresh = true;
        } catch (exc) {
          // Another tab started one meanwhile: resume it.
          if (!(exc instanceof HttpError && exc.message === "Session already exists")) throw exc;
          session = await api("GET", "/qa/session");
        }
      }
    } catch (exc) {
      const empty = exc instanceof HttpError && exc.message === "Not enough snapshots to validate";
      error.textContent = empty
        ? "Nothing to review for you right now: every snapshot you have not seen has the votes it needs. Check back later."
        : `Could not start a session: ${exc.message}`;
      error.hidden = false;
      button.disabled = false;
      button.focus();
      return;
    }
    const totals = store.get(TOTALS_KEY, {});
    if (fresh) {
      totals[session.session_id] = session.snapshots.length;
      // Keep the map small: only recent sessions matter.
      const ids = Object.keys(totals).map(Number).sort((a, b) => b - a);
      for (const id of ids.slice(20)) delete totals[id];
      store.set(TOTALS_KEY, totals);
    }
    const items = sortByProduct(unanswered(session));
    const total = Math.max(totals[session.session_id] || 0, session.remaining_snapshots_quantity, items.length);
    state.session = { id: session.session_id, total, before: total - items.length, items };
    state.index = 0;
    state.answers = [];
    state.started = Date.now();
    if (!items.length) return goDone();
    goReview();
  }

  // Same product in a row (the server already orders them so; this keeps it true regardless),
  // products in order of first appearance.
  function sortByProduct(items) {
    const first = new Map();
    items.forEach((item, i) => {
      if (!first.has(item.product_id)) first.set(item.product_id, i);
    });
    return items
      .map((item, i) => ({ item, i }))
      .sort((a, b) => first.get(a.item.product_id) - first.get(b.item.product_id) || a.i - b.i)
      .map(({ item }) => item);
  }

  $("start-button").addEventListener("click", startOrResume);

  // -- review ----------------------------------------------------------------------------

  const imageCache = new Map(); // url -> Image, kept so prefetched images stay decoded

  function prefetchImage(url) {
    if (!url || imageCache.has(url)) return;
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    img.decode().catch(() => {});
    imageCache.set(url, img);
    if (imageCache.size > 60) imageCache.delete(imageCache.keys().next().value);
  }

  const confirmedCache = new Map(); // product id -> Promise<[{snapshot_id, image_url}]>

  function confirmedFor(productId) {
    if (!confirmedCache.has(productId)) {
      const request = api("GET", `/qa/products/${productId}/confirmed?limit=3`)
        .then((list) => {
          list.forEach((c) => prefetchImage(c.image_url));
          return list;
        })
        .catch(() => {
          confirmedCache.delete(productId); // try again next time
          return [];
        });
      confirmedCache.set(productId, request);
    }
    return confirmedCache.get(productId);
  }

  function prefetchAhead() {
    const { items } = state.session;
    for (let i = state.index + 1; i <= state.index + PREFETCH_AHEAD && i < items.length; i++) {
      prefetchImage(items[i].snapshot_image_url);
      prefetchImage(items[i].product_image_url);
      confirmedFor(items[i].product_id);
    }
  }

  function goReview() {
    show("review");
    renderItem();
    $("screen-review").focus({ preventScroll: true });
  }

  // Show `url` in `img`; `onDone(ok)` once it has loaded (or failed). The frame hides the
  // previous picture meanwhile, so an old image is never on screen under a new product.
  function setImage(img, url, onDone) {
    const token = (img.loadToken = (img.loadToken || 0) + 1);
    const frame = img.closest(".frame");
    let finished = false;
    const finish = (ok) => {
      if (finished || img.loadToken !== token) return;
      finished = true;
      frame.classList.remove("loading");
      frame.classList.toggle("broken", !ok);
      if (onDone) onDone(ok);
    };
    img.onload = () => finish(true);
    img.onerror = () => finish(false);
    if (img.getAttribute("src") !== url) {
      frame.classList.add("loading");
      img.src = url;
    }
    if (img.complete) finish(img.naturalWidth > 0);
  }

  function renderItem() {
    const { items } = state.session;
    const item = items[state.index];
    const previous = items[state.index - 1];
    const productItems = items.filter((i) => i.product_id === item.product_id);

    $("product-name").textContent = item.product_name;
    $("product-upc").textContent = item.product_upc || "";
    $("product-position").textContent =
      `snapshot ${productItems.indexOf(item) + 1} of ${productItems.length} for this product`;
    const switched = previous !== undefined && previous.product_id !== item.product_id;
    $("product-switch").hidden = !switched;
    $("product-bar").classList.toggle("switched", switched);
    if (switched) $("announce").textContent = `New product: ${item.product_name}`;

    // Do not take an answer until the snapshot is on screen (an old image must never be judged).
    const review = $("screen-review");
    state.ready = false;
    review.dataset.snapshotId = String(item.snapshot_id);
    review.dataset.ready = "false";
    $("snapshot-note").hidden = true;
    setImage($("snapshot-img"), item.snapshot_image_url, (ok) => {
      state.ready = true;
      review.dataset.ready = "true";
      if (!ok) {
        $("snapshot-note").textContent = "The snapshot image did not load.";
        $("snapshot-note").hidden = false;
      }
    });
    const reference = $("reference-img");
    reference.alt = `Reference image of ${item.product_name}`;
    setImage(reference, item.product_image_url);
    renderConfirmed(item);
    renderProgress();
    prefetchAhead();
  }

  function renderConfirmed(item) {
    const list = $("confirmed-list");
    const empty = $("confirmed-empty");
    if (list.dataset.product !== String(item.product_id)) {
      list.replaceChildren();
      list.dataset.product = String(item.product_id);
      empty.hidden = true;
    }
    confirmedFor(item.product_id).then((confirmed) => {
      const current = state.session && state.session.items[state.index];
      if (!current || current.product_id !== item.product_id) return;
      if (list.childElementCount === confirmed.length && confirmed.length) return;
      list.replaceChildren(
        ...confirmed.map((c, i) => {
          const li = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.className = "frame thumb";
          button.setAttribute("aria-label", `Enlarge confirmed snapshot ${i + 1}`);
          const img = document.createElement("img");
          img.src = c.image_url;
          img.alt = `Confirmed snapshot ${i + 1} of ${item.product_name}`;
          button.append(img);
          li.append(button);
          return li;
        }),
      );
      empty.hidden = confirmed.length > 0;
    });
  }

  function renderProgress() {
    const { total, before } = state.session;
    const done = Math.min(total, before + state.index);
    $("progress-done").textContent = String(done);
    $("progress-total").textContent = String(total);
    const bar = $("progress-bar");
    bar.setAttribute("aria-valuemax", String(total));
    bar.setAttribute("aria-valuenow", String(done));
    bar.setAttribute("aria-valuetext", `${done} of ${total} reviewed`);
    $("progress-fill").style.width = `${total ? (100 * done) / total : 0}%`;
  }

  function answer(isMatch) {
    if (state.screen !== "review" || !state.ready) return;
    const item = state.session.items[state.index];
    if (!item) return;
    const entry = {
      user: state.user,
      session_id: state.session.id,
      snapshot_id: item.snapshot_id,
      is_match: isMatch,
      due: Date.now() + HOLD_MS,
    };
    outbox.add(entry);
    state.answers.push({ entry, item });
    pressed(isMatch ? "btn-match" : "btn-mismatch");
    const said = isMatch ? "Match" : "Not a match";
    if (HOLD_MS > 0) feedback(`${said}. Press U to undo.`, { label: `Undo “${said}”`, holdMs: HOLD_MS });
    else feedback(said, { label: "Undo" });
    state.index += 1;
    if (state.index >= state.session.items.length) {
      goDone();
    } else {
      renderItem(); // after the feedback: a new product's notice is what gets announced
    }
    renderSync();
  }

  function canUndo() {
    const last = state.answers[state.answers.length - 1];
    return Boolean(last && !last.entry.inflight && last.entry.due > Date.now() &&
      outbox.entries[outbox.entries.length - 1] === last.entry);
  }

  function undo() {
    const last = state.answers[state.answers.length - 1];
    if (!last || !outbox.takeBack(last.entry)) {
      if (last) feedback("Too late to undo: that answer was already sent.", { label: "Already sent" });
      else feedback("Nothing to undo.", { label: "Nothing to undo" });
      return;
    }
    state.answers.pop();
    state.index -= 1;
    if (state.screen !== "review") {
      show("review");
      $("screen-review").focus({ preventScroll: true });
    }
    renderItem();
    feedback(`Undone: answer snapshot ${state.session.before + state.index + 1} again.`, { label: "Undone" });
    renderSync();
  }

  // The undo button enables/disables itself as the window closes.
  setInterval(() => {
    if (state.screen === "review" || state.screen === "done") $("btn-undo").disabled = !canUndo();
  }, 250);

  function pressed(id) {
    const button = $(id);
    button.classList.remove("pressed");
    void button.offsetWidth;
    button.classList.add("pressed");
  }

  $("btn-match").addEventListener("click", () => answer(true));
  $("btn-mismatch").addEventListener("click", () => answer(false));
  $("btn-undo").addEventListener("click", undo);

  // -- zoom ------------------------------------------------------------------------------

  const zoom = $("zoom");

  function openZoom(img) {
    if (!img || !img.src) return;
    $("zoom-img").src = img.src;
    $("zoom-img").alt = img.alt;
    zoom.showModal();
  }

  $("screen-review").addEventListener("click", (event) => {
    const frame = event.target.closest("button.frame");
    if (frame) openZoom(frame.querySelector("img"));
  });
  zoom.addEventListener("click", (event) => {
    if (event.target === zoom || event.target === $("zoom-img")) zoom.close();
  });

  // -- keyboard --------------------------------------------------------------------------

  const KEYS = {
    ArrowLeft: () => answer(true),
    a: () => answer(true),
    ArrowRight: () => answer(false),
    l: () => answer(false),
    u: () => undo(),
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof Element && event.target.closest("input, textarea, select")) return;
    if (state.screen !== "review" && !(state.screen === "done" && event.key.toLowerCase() === "u")) return;
    const action = KEYS[event.key] || KEYS[event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    // A held-down key must not answer a run of snapshots.
    if (event.repeat) return;
    if (zoom.open) zoom.close();
    action();
  });

  // -- end of session --------------------------------------------------------------------

  function goDone() {
    show("done");
    renderProgress();
    renderDone();
    $("next-session").focus();
  }

  async function renderDone() {
    const session = state.session;
    if (!session) return;
    const answers = state.answers;
    const matches = answers.filter((a) => a.entry.is_match).length;
    $("stat-reviewed").textContent = String(session.before + answers.length);
    $("stat-match").textContent = String(matches);
    $("stat-mismatch").textContent = String(answers.length - matches);
    const seconds = (Date.now() - state.started) / 1000;
    $("stat-pace").textContent = answers.length ? (seconds / answers.length).toFixed(1) : "–";
    const waiting = outbox.pendingFor(session.id).length;
    const status = $("done-status");
    if (waiting) {
      status.textContent = `Sending your last ${waiting === 1 ? "answer" : `${waiting} answers`}…` +
        (canUndo() ? " Press U to undo the last one." : "");
      return;
    }
    status.textContent = `All ${session.total} answers are saved. Thank you!`;
    try {
      const board = await api("GET", "/qa/leaderboard");
      const me = board.find((row) => row.username === state.user);
      if (me && state.screen === "done") {
        $("stat-rank").textContent = `${me.rank} of ${board.length}`;
        $("stat-activity").textContent = String(me.activity_points);
        $("stat-accuracy").textContent = String(me.accuracy_points);
        $("stat-agreement").textContent = percent(me.agreement_rate);
      }
    } catch {
      // The numbers above still stand; the standing shows next time.
    }
  }

  function percent(rate) {
    return rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)}%`;
  }

  $("next-session").addEventListener("click", () => {
    openSession = null;
    goStart().then(() => {
      if (!unreachable && state.screen === "start") startOrResume();
    });
  });

  // -- leaderboard -----------------------------------------------------------------------

  async function goLeaderboard() {
    show("leaderboard");
    $("screen-leaderboard").focus({ preventScroll: true });
    const body = $("leaderboard-body");
    const error = $("leaderboard-error");
    error.hidden = true;
    try {
      const board = await api("GET", "/qa/leaderboard");
      body.replaceChildren(
        ...board.map((row) => {
          const tr = document.createElement("tr");
          if (row.username === state.user) tr.className = "me";
          for (const value of [
            row.rank, row.username, row.accuracy_points, row.activity_points, row.reviewed,
            percent(row.agreement_rate),
          ]) {
            const td = document.createElement("td");
            td.textContent = String(value);
            tr.append(td);
          }
          return tr;
        }),
      );
      if (!board.length) {
        const tr = document.createElement("tr");
        const td = document.createElement("td");
        td.colSpan = 6;
        td.textContent = "No reviews yet.";
        tr.append(td);
        body.replaceChildren(tr);
      }
    } catch (exc) {
      error.textContent = `Could not load the leaderboard: ${exc.message}`;
      error.hidden = false;
    }
  }

  function leaveLeaderboard() {
    const back = state.lastScreen;
    if (back === "review" && state.session) goReview();
    else if (back === "done" && state.session) goDone();
    else goStart();
  }

  $("nav-leaderboard").addEventListener("click", goLeaderboard);
  $("start-leaderboard").addEventListener("click", goLeaderboard);
  $("done-leaderboard").addEventListener("click", goLeaderboard);
  $("leaderboard-back").addEventListener("click", leaveLeaderboard);

  // -- leaving ---------------------------------------------------------------------------

  window.addEventListener("beforeunload", (event) => {
    if (!outbox.entries.length) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need it to show the prompt
  });
  window.addEventListener("pagehide", () => outbox.flushOnExit());
  window.addEventListener("online", () => outbox.schedule(0));

  // -- start -----------------------------------------------------------------------------

  for (const el of document.querySelectorAll(".hold-seconds")) {
    el.textContent = String(Math.round(HOLD_MS / 100) / 10);
  }
  outbox.schedule();
  const saved = store.get(USER_KEY, null);
  if (typeof saved === "string" && USERNAME.test(saved)) signIn(saved);
  else goSignIn();
})();
