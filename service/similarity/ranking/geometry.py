"""The geometric check: do two pictures show the same printed pack? (OpenCV SIFT + RANSAC)

Embeddings say two packs look alike; look-alikes (the same carton in another flavour or fat
level) look alike too. Local features say whether the same lettering and artwork appear in
both, in the same layout: SIFT keypoints of each picture (RootSIFT descriptors, the 500
strongest, on a copy whose longer side is SIDE), matches that pass Lowe's ratio test, and
the number of them a RANSAC homography keeps (inliers). A photo and its product's packshot
share about 35 inliers on grocery-train; a look-alike's packshot about 19.

`inliers(a, b)` is symmetric in what it measures, not in cost: `a` should be the picture
whose features are reused least (the query).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from PIL import Image

SIDE = 300  # longer side of the grey copy features are found on
MAX_FEATURES = 500
RATIO = 0.75  # Lowe's ratio test
REPROJECTION = 5.0  # RANSAC: pixels a match may stray from the homography
# Names the settings above in the pair cache (snapshot_matches.matcher): change it with them.
MATCHER = "sift500-300-r75:1"

_local = threading.local()


def _cv2() -> ModuleType:
    """OpenCV, imported at first use: a process that never checks a picture (a web process
    busy with jobs) does not carry its 25 MB."""
    import cv2

    if not getattr(_local, "configured", False):
        cv2.setNumThreads(1)  # one picture is small; parallelism comes from the callers
        _local.configured = True
    return cv2


def _detector():  # type: ignore[no-untyped-def]
    """OpenCV's detector and matcher objects are not shared between threads."""
    found = getattr(_local, "sift", None)
    if found is None:
        found = _local.sift = _cv2().SIFT_create(nfeatures=MAX_FEATURES)
    return found


def _matcher():  # type: ignore[no-untyped-def]
    found = getattr(_local, "matcher", None)
    if found is None:
        cv2 = _cv2()
        found = _local.matcher = cv2.BFMatcher(cv2.NORM_L2)
    return found


@dataclass(frozen=True, slots=True)
class LocalFeatures:
    points: np.ndarray  # float32 (n, 2), in the grey copy's pixels
    descriptors: np.ndarray  # float32 (n, 128), RootSIFT (unit length)

    @property
    def size(self) -> int:
        return int(self.points.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self.points.nbytes + self.descriptors.nbytes)


def local_features(image: Image.Image) -> LocalFeatures:
    grey = np.asarray(image.convert("L"))
    cv2 = _cv2()
    scale = SIDE / max(grey.shape)
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    grey = cv2.resize(grey, size, interpolation=interpolation)
    keypoints, descriptors = _detector().detectAndCompute(grey, None)
    if descriptors is None or not keypoints:
        return LocalFeatures(np.empty((0, 2), np.float32), np.empty((0, 128), np.float32))
    points = np.array([k.pt for k in keypoints], dtype=np.float32)
    # RootSIFT: L1-normalise, square root; Euclidean distance then compares like Hellinger
    root = np.sqrt(descriptors / np.maximum(descriptors.sum(axis=1, keepdims=True), 1e-7))
    return LocalFeatures(points, root.astype(np.float32))


def inliers(a: LocalFeatures, b: LocalFeatures) -> int:
    """How many of a's ratio-tested matches in b one homography explains (0 to a.size)."""
    if a.size < 4 or b.size < 2:
        return 0
    pairs = _matcher().knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 4:
        return 0
    source = a.points[[m.queryIdx for m in good]]
    target = b.points[[m.trainIdx for m in good]]
    cv2 = _cv2()
    homography, mask = cv2.findHomography(source, target, cv2.RANSAC, REPROJECTION)
    return 0 if homography is None or mask is None else int(mask.sum())
