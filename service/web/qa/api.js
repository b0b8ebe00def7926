// The QA API under /qa: JSON in and out, the username header and the API key on every call.

import { state } from "./state.js";
import { API_KEY, store } from "./store.js";

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function withKey(headers) {
  const key = store.get(API_KEY, null);
  if (key) headers.authorization = `Bearer ${key}`;
  return headers;
}

export async function api(method, path, { user = state.user, body, keepalive = false } = {}) {
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

// A missing or wrong API key.
export const refused = (exc) => exc instanceof HttpError && (exc.status === 401 || exc.status === 403);
