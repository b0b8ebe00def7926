// What this page knows: who reviews, which screen is up, the session and the answers given.

export const USERNAME = /^[A-Za-z0-9._-]{1,64}$/;

// How long an answer is held (and can be undone) before it is sent.
export const HOLD_MS = (() => {
  // ?hold=MS (tests, impatient people) over <html data-hold-ms>; 0 to 60 s.
  const raw = new URLSearchParams(location.search).get("hold") ?? document.documentElement.dataset.holdMs;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms >= 0 && ms <= 60000 ? ms : 3000;
})();

export const state = {
  user: null,
  screen: null,
  session: null, // {id, total, before, items: [...]}: before = answered before this page
  index: 0, // position of the snapshot on screen in session.items
  ready: false, // the snapshot on screen has loaded (answers wait for it)
  answers: [], // this page's answers, newest last: {entry, item}
  started: 0, // when this page's work on the session began (for the pace)
  lastScreen: "start",
};
