// The QA lead's desk. Plain ES modules, no build step; speaks the lead's API. This module
// signs the lead in and opens the suspects; each screen, and the keyboard, wires its own
// controls (suspects.js, actions.js, tabs.js, keys.js).

import "./actions.js";
import * as API from "./api.js";
import "./keys.js";
import { show } from "./screens.js";
import { goSuspects } from "./suspects.js";
import "./tabs.js";
import { $, banner } from "./ui.js";

function goSignIn() {
  show("signin");
  $("username").value = API.who.user || "";
  $("api-key").value = API.who.key || "";
  $("username").focus();
}

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("username").value.trim();
  if (!API.USERNAME.test(name)) {
    $("signin-error").textContent = "Use 1 to 64 letters, digits, dots, underscores or dashes.";
    $("signin-error").hidden = false;
    $("username").setAttribute("aria-invalid", "true");
    return;
  }
  $("signin-error").hidden = true;
  API.who.user = name;
  API.who.key = $("api-key").value.trim();
  $("whoami").textContent = name;
  goSuspects(true);
});

$("sign-out").addEventListener("click", () => {
  API.who.user = null;
  banner("");
  goSignIn();
});

if (API.who.user) {
  $("whoami").textContent = API.who.user;
  goSuspects(true);
} else {
  goSignIn();
}
