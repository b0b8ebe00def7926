// Answers waiting to be sent.
//
// How an answer travels: a key press puts it in the outbox (persisted in localStorage) with a
// "due" time HOLD_MS ahead and shows the next snapshot at once. Until it is due the answer can
// be undone. The sender delivers due answers one at a time, in order; a network failure or a
// 5xx is retried with backoff, a 2xx or a 409 (already recorded: an earlier try got through)
// counts as delivered. So an answer is neither lost nor counted twice.

import { HttpError, api, refused, withKey } from "./api.js";
import { USERNAME } from "./state.js";
import { OUTBOX_KEY, store } from "./store.js";

const RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];

// What the page does when the outbox moves; main.js plugs the screens in.
export const on = {
  changed() {}, // an answer was added, sent, dropped or is in flight
  refused() {}, // the server refused the API key (the answer is kept)
  rejected(entry, error, dropped) {}, // the answer and the rest of its session were dropped
  emptied() {}, // the last answer was delivered
};

export const outbox = {
  // Answers a previous visit left unsent: due now (their undo window went with that page).
  entries: store.get(OUTBOX_KEY, [])
    .filter((e) => e && USERNAME.test(e.user) && Number.isInteger(e.snapshot_id))
    .map((e) => ({ ...e, due: Math.min(Number(e.due) || 0, Date.now()) })),
  // Snapshot ids delivered from this page, by session: a session read from the server before
  // they arrived still lists them, and must not hand them out again.
  delivered: new Map(),
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
    on.changed();
  },
  add(entry) {
    this.entries.push(entry);
    this.save();
    this.schedule();
  },
  // The answer is the newest and still held (not due, not in flight): it may be taken back.
  holds(entry) {
    return !entry.inflight && entry.due > Date.now() && this.entries[this.entries.length - 1] === entry;
  },
  takeBack(entry) {
    if (!this.holds(entry)) return false;
    this.entries.pop();
    this.save();
    this.schedule();
    return true;
  },
  pendingFor(sessionId) {
    return this.entries.filter((e) => e.session_id === sessionId);
  },
  // Snapshot ids of a session answered here: waiting in the outbox, or already delivered.
  answeredIn(sessionId) {
    const ids = new Set(this.delivered.get(sessionId));
    for (const e of this.pendingFor(sessionId)) ids.add(e.snapshot_id);
    return ids;
  },
  // Drop the answers of a session the server no longer takes; how many there were.
  dropSession(sessionId) {
    const dropped = this.pendingFor(sessionId).length;
    this.entries = this.entries.filter((e) => e.session_id !== sessionId);
    return dropped;
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
    on.changed();
    const { outcome, error } = await deliver(head);
    head.inflight = false;
    this.busy = false;
    if (outcome === "retry") {
      head.attempts = (head.attempts || 0) + 1;
      head.retryAt = Date.now() + RETRY_MS[Math.min(head.attempts, RETRY_MS.length) - 1];
      this.failing = true;
    } else {
      this.failing = false;
      this.entries.shift();
      if (outcome === "delivered") {
        if (!this.delivered.has(head.session_id)) this.delivered.set(head.session_id, new Set());
        this.delivered.get(head.session_id).add(head.snapshot_id);
      }
      if (outcome === "rejected") on.rejected(head, error, 1 + this.dropSession(head.session_id));
      this.save();
      if (!this.entries.length) on.emptied();
    }
    on.changed();
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

// One try at sending an answer: "delivered", "retry" (later, with backoff) or "rejected".
async function deliver(entry) {
  try {
    await api("PATCH", `/qa/session/${entry.session_id}/snapshot/${entry.snapshot_id}`, {
      user: entry.user,
      body: { is_match: entry.is_match },
    });
    return { outcome: "delivered", error: null };
  } catch (exc) {
    if (exc instanceof HttpError && exc.status === 409) return { outcome: "delivered", error: exc };
    if (refused(exc)) {
      // A missing or wrong API key: keep the answer until a valid key is entered.
      on.refused();
      return { outcome: "retry", error: exc };
    }
    const transient = !(exc instanceof HttpError) || exc.status >= 500 || exc.status === 408 || exc.status === 429;
    return { outcome: transient ? "retry" : "rejected", error: exc };
  }
}
