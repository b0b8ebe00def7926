// The lead's API, and what the page keeps in this browser (who signs in, the API key).

export const USERNAME = /^[A-Za-z0-9._-]{1,64}$/;
const USER_KEY = "rp.lead.username";
const API_KEY = "rp.lead.apiKey";

export const memory = {
  get(key, fallback = null) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      if (value === null || value === undefined) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch {
      // private mode or full: this page still works
    }
  },
};

export const who = {
  get user() { return memory.get(USER_KEY); },
  set user(value) { memory.set(USER_KEY, value); },
  get key() { return memory.get(API_KEY); },
  set key(value) { memory.set(API_KEY, value || null); },
};

export class HttpError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, { body, query, headers = {} } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const sent = { accept: "application/json", ...headers };
  if (who.user) sent.username = who.user;
  if (who.key) sent.authorization = `Bearer ${who.key}`;
  if (body !== undefined) sent["content-type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new HttpError(response.status, (data && data.error) || `HTTP ${response.status}`, data);
  }
  return data;
}

// -- the calls the desk makes ----------------------------------------------------------------

export const suspects = (query) => api("GET", "/api/lead/suspects", { query });
export const products = (q, limit = 12) => api("GET", "/api/lead/products", { query: { q, limit } });
export const productView = (upc) => api("GET", `/api/lead/products/${encodeURIComponent(upc)}`);
export const moves = (cursor) => api("GET", "/api/lead/moves", { query: { cursor, limit: 30 } });
export const snapshot = (id) => api("GET", `/api/snapshots/${id}`);
export const suggestions = (id) => api("GET", `/api/snapshots/${id}/suggestions`, { query: { k: 5 } });

export const change = (id, version, fields) =>
  api("PATCH", `/api/snapshots/${id}`, { body: { ...fields, version } });
export const undoMove = (id, version) =>
  api("POST", `/api/snapshots/${id}/undo`, { body: { version } });
