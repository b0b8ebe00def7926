// Pictures of the review screen: shown only once loaded, fetched ahead, and the product's
// confirmed snapshots (one request per product).

import { api } from "./api.js";

const imageCache = new Map(); // url -> Image, kept so prefetched images stay decoded

export function prefetchImage(url) {
  if (!url || imageCache.has(url)) return;
  const img = new Image();
  img.decoding = "async";
  img.src = url;
  img.decode().catch(() => {});
  imageCache.set(url, img);
  if (imageCache.size > 60) imageCache.delete(imageCache.keys().next().value);
}

const confirmedCache = new Map(); // product id -> Promise<[{snapshot_id, image_url}]>

export function confirmedFor(productId) {
  if (!confirmedCache.has(productId)) {
    const request = api("GET", `/qa/products/${productId}/confirmed?limit=3`)
      .then((list) => {
        list.forEach((c) => prefetchImage(c.image_url));
        return list;
      })
      .catch(() => {
        confirmedCache.delete(productId); // try again next time
        return [];
      });
    confirmedCache.set(productId, request);
  }
  return confirmedCache.get(productId);
}

// Show `url` in `img`; `onDone(ok)` once it has loaded (or failed). The frame hides the
// previous picture meanwhile, so an old image is never on screen under a new product.
export function setImage(img, url, onDone) {
  const token = (img.loadToken = (img.loadToken || 0) + 1);
  const frame = img.closest(".frame");
  let finished = false;
  const finish = (ok) => {
    if (finished || img.loadToken !== token) return;
    finished = true;
    frame.classList.remove("loading");
    frame.classList.toggle("broken", !ok);
    if (onDone) onDone(ok);
  };
  img.onload = () => finish(true);
  img.onerror = () => finish(false);
  if (img.getAttribute("src") !== url) {
    frame.classList.add("loading");
    img.src = url;
  }
  if (img.complete) finish(img.naturalWidth > 0);
}
