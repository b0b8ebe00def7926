// The review screen: a snapshot beside its product, answered with a key, undone within the hold.

import { goDone } from "./done.js";
import { confirmedFor, prefetchImage, setImage } from "./images.js";
import { outbox } from "./outbox.js";
import { renderProgress } from "./progress.js";
import { HOLD_MS, state } from "./state.js";
import { canUndo, renderSync } from "./sync.js";
import { $, feedback, pressed, show } from "./ui.js";

const PREFETCH_AHEAD = 3;

function prefetchAhead() {
  const { items } = state.session;
  for (let i = state.index + 1; i <= state.index + PREFETCH_AHEAD && i < items.length; i++) {
    prefetchImage(items[i].snapshot_image_url);
    prefetchImage(items[i].product_image_url);
    confirmedFor(items[i].product_id);
  }
}

export function goReview() {
  show("review");
  renderItem();
  $("screen-review").focus({ preventScroll: true });
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
    list.replaceChildren(...confirmed.map((c, i) => confirmedThumb(c, i, item)));
    empty.hidden = confirmed.length > 0;
  });
}

function confirmedThumb(confirmed, i, item) {
  const li = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "frame thumb";
  button.setAttribute("aria-label", `Enlarge confirmed snapshot ${i + 1}`);
  const img = document.createElement("img");
  img.src = confirmed.image_url;
  img.alt = `Confirmed snapshot ${i + 1} of ${item.product_name}`;
  button.append(img);
  li.append(button);
  return li;
}

export function answer(isMatch) {
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

export function undo() {
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

$("btn-match").addEventListener("click", () => answer(true));
$("btn-mismatch").addEventListener("click", () => answer(false));
$("btn-undo").addEventListener("click", undo);
