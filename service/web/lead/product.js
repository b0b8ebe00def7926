// The product view: its packshot, its snapshots by QA status, and the products it is most
// often confused with (pairs ranked by how many snapshots of either look like the other).

import { productView } from "./api.js";
import { thumb } from "./images.js";

const $ = (id) => document.getElementById(id);

function snapshotThumb(item) {
  const figure = document.createElement("figure");
  figure.className = "mini";
  figure.dataset.snapshotId = item.snapshot_id;
  figure.append(thumb(item.thumb_url, `Snapshot ${item.snapshot_id}`, "mini"));
  const caption = document.createElement("figcaption");
  caption.textContent = `#${item.snapshot_id} ✓${item.votes.match} ✗${item.votes.mismatch}`;
  if (item.reviewed) caption.textContent += " · reviewed";
  if (item.qa_first) caption.textContent += " · QA first";
  figure.append(caption);
  return figure;
}

export async function showProduct(upc) {
  const screen = $("screen-product");
  screen.dataset.ready = "false";
  const view = await productView(upc);
  $("product-none").hidden = true;
  $("product-head").hidden = false;
  $("product-title").textContent = view.product.name;
  $("product-upc").textContent = view.product.upc;
  $("product-packshot").src = view.product.thumb_url;
  $("product-packshot").alt = `Packshot of ${view.product.name}`;
  screen.dataset.upc = view.product.upc;

  $("product-groups").replaceChildren(
    ...view.groups.map((group) => {
      const section = document.createElement("section");
      section.className = `group ${group.status}`;
      const title = document.createElement("h2");
      title.textContent = `${group.status} · ${group.count}`;
      const list = document.createElement("div");
      list.className = "minis";
      list.append(...group.snapshots.map(snapshotThumb));
      if (!group.snapshots.length) list.textContent = "none";
      section.append(title, list);
      return section;
    }),
  );

  $("confusions-title").hidden = view.confusions.length === 0;
  $("confusions").replaceChildren(
    ...view.confusions.map((pair) => {
      const item = document.createElement("li");
      item.className = "confusion";
      item.dataset.upc = pair.product.upc;
      const head = document.createElement("div");
      head.className = "confusion-head";
      head.append(thumb(pair.product.thumb_url, `Packshot of ${pair.product.name}`, "pack"));
      const text = document.createElement("p");
      const incoming = pair.snapshots - pair.outgoing;
      const name = document.createElement("strong");
      name.textContent = pair.product.name;
      text.append(
        name,
        document.createElement("br"),
        `${pair.snapshots} snapshot${pair.snapshots === 1 ? "" : "s"} look alike: ` +
          `${pair.outgoing} of this product look like it, ${incoming} of it look like this one`,
      );
      head.append(text);
      const examples = document.createElement("div");
      examples.className = "minis";
      for (const example of pair.examples) {
        const figure = document.createElement("figure");
        figure.className = "mini";
        figure.append(thumb(example.thumb_url, `Snapshot ${example.snapshot_id}`, "mini"));
        const caption = document.createElement("figcaption");
        caption.textContent = `#${example.snapshot_id} · ${example.suspicion.toFixed(2)}`;
        figure.append(caption);
        examples.append(figure);
      }
      item.append(head, examples);
      return item;
    }),
  );
  screen.dataset.ready = "true";
  return view;
}
