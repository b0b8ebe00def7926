// Signing in: a username (checked here as the server does) and, where the server asks for
// one, an API key, both kept in this browser.

import { goStart } from "./start.js";
import { USERNAME, state } from "./state.js";
import { API_KEY, USER_KEY, store } from "./store.js";
import { renderSync } from "./sync.js";
import { $, hideBanner, show } from "./ui.js";

export function signIn(name) {
  state.user = name;
  store.set(USER_KEY, name);
  $("whoami").textContent = name;
  renderSync();
  goStart();
}

export function goSignIn() {
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
