// What the page keeps in localStorage (JSON), and under which keys.

export const USER_KEY = "rp.qa.username";
export const API_KEY = "rp.qa.apiKey"; // sent as a bearer token when the server has API_KEYS on
export const OUTBOX_KEY = "rp.qa.outbox";
export const TOTALS_KEY = "rp.qa.sessionTotals"; // session id -> snapshots handed out

export const store = {
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
