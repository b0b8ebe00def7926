// The product and history screens, and the tabs (1, 2, 3) between them and the suspects.

import { showHistory } from "./history.js";
import { pick } from "./picker.js";
import { showProduct } from "./product.js";
import { show } from "./screens.js";
import { state } from "./state.js";
import { filterBy, goSuspects } from "./suspects.js";
import { $, failed, toast } from "./ui.js";

export async function goProduct(upc) {
  show("product");
  $("screen-product").focus();
  if (!upc) return;
  state.product = upc;
  try {
    await showProduct(upc);
  } catch (exc) {
    failed(exc, "Could not load the product");
  }
}

export async function chooseProduct() {
  const product = await pick({ title: "Which product?" });
  if (product) goProduct(product.upc);
}

export async function goHistory(more = false) {
  show("history");
  $("screen-history").focus();
  try {
    await showHistory((text) => {
      toast(text);
      state.stale = true; // the suspects list changed behind the grid
      goHistory();
    }, more);
  } catch (exc) {
    failed(exc, "Could not load the history");
  }
}

$("product-pick").addEventListener("click", chooseProduct);
$("product-suspects").addEventListener("click", () => {
  filterBy({ upc: state.product, name: $("product-title").textContent });
  goSuspects(true);
});
$("moves-more").addEventListener("click", () => goHistory(true));

const screens = {
  suspects: () => goSuspects(),
  product: () => goProduct(state.product),
  history: () => goHistory(),
};

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => screens[tab.dataset.screen]());
}
