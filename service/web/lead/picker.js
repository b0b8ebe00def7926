// The product search box: a dialog listing products with their packshots, filtered as one
// types (name or UPC). Arrow keys choose, Enter picks, Esc cancels. `pick()` resolves to the
// chosen product, or null.

import { products } from "./api.js";
import { thumb } from "./images.js";

const $ = (id) => document.getElementById(id);
const dialog = $("picker");
const input = $("picker-q");
const list = $("picker-results");

let shown = [];
let active = 0;
let settle = null;
let typed = 0; // the latest search; older answers are dropped

function render() {
  list.replaceChildren(
    ...shown.map((product, i) => {
      const item = document.createElement("li");
      item.id = `pick-${product.id}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", i === active ? "true" : "false");
      item.dataset.upc = product.upc;
      item.append(thumb(product.thumb_url, "", "pick"));
      const text = document.createElement("span");
      text.className = "label";
      const name = document.createElement("strong");
      name.textContent = product.name;
      const meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = product.score === undefined
        ? product.upc
        : `${product.upc} · suggested ${product.score.toFixed(2)}`;
      text.append(name, meta);
      item.append(text);
      item.addEventListener("click", () => finish(product));
      return item;
    }),
  );
  if (shown.length) input.setAttribute("aria-activedescendant", `pick-${shown[active].id}`);
  else input.removeAttribute("aria-activedescendant");
  list.dataset.ready = "true";
  const chosen = list.children[active];
  if (chosen) chosen.scrollIntoView({ block: "nearest" });
}

function finish(product) {
  const done = settle;
  settle = null;
  if (dialog.open) dialog.close();
  if (done) done(product);
}

async function search(q, exclude) {
  const mine = ++typed;
  list.dataset.ready = "false";
  const found = await products(q, 12).catch(() => []);
  if (mine !== typed) return;
  shown = found.filter((p) => p.upc !== exclude);
  active = 0;
  render();
}

input.addEventListener("input", () => search(input.value, dialog.dataset.exclude));
input.addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    if (!shown.length) return;
    active = (active + (event.key === "ArrowDown" ? 1 : -1) + shown.length) % shown.length;
    render();
  } else if (event.key === "Enter") {
    event.preventDefault();
    if (shown[active] && list.dataset.ready === "true") finish(shown[active]);
  }
});
dialog.addEventListener("close", () => finish(null));
dialog.addEventListener("cancel", () => finish(null));

// `first`: products to list before anything is typed (a snapshot's suggestions, say).
export function pick({ title, first = null, exclude = "" }) {
  if (settle) finish(null);
  $("picker-title").textContent = title;
  dialog.dataset.exclude = exclude;
  input.value = "";
  shown = [];
  render();
  list.dataset.ready = "false";
  dialog.showModal();
  input.focus();
  const mine = ++typed;
  Promise.resolve(first)
    .then((items) => (items && items.length ? items : products("", 12)))
    .catch(() => products("", 12))
    .then((items) => {
      if (mine !== typed) return;
      shown = items.filter((p) => p.upc !== exclude);
      active = 0;
      render();
    })
    .catch(() => {
      list.dataset.ready = "true";
    });
  return new Promise((resolve) => {
    settle = resolve;
  });
}
