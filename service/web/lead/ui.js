// Messages to the lead: the banner (until dismissed by the next action) and a passing toast.

import { HttpError } from "./api.js";

export const $ = (id) => document.getElementById(id);

export function banner(text) {
  const node = $("banner");
  node.textContent = text || "";
  node.hidden = !text;
}

let toastTimer = 0;
export function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    node.hidden = true;
  }, 4000);
}

export function failed(exc, what) {
  if (exc instanceof HttpError && (exc.status === 401 || exc.status === 403)) {
    banner(`The server refused the API key (${exc.message}). Use Switch user to enter a lead's key.`);
  } else {
    banner(`${what}: ${exc.message}`);
  }
}
