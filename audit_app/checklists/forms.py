"""Designer forms: turn posted fields into checklist documents for the validator, and back.

The designer's section and question forms have rows that come and go (options, bands), so
they are plain HTML forms (CSRF through the global protection); these helpers parse them into
the documents of ``docs/checklist-format.md``. Numbers that do not parse stay text, so that the
validator reports them in the user's language.
"""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from ..scoring import CHANNELS

EXTRA_ROWS = 3
MAX_ROWS = 40


def _text(form: MultiDict, name: str) -> dict:
    return {lang: (form.get(f"{name}_{lang}") or "").strip() for lang in ("en", "fi")}


def _number(raw: str | None, integer: bool = False):
    """'2', '0,5', '1e3' → a number; '' → None; anything else stays the (stripped) text."""
    if raw is None:
        return None
    text = raw.strip().replace(",", ".").replace("\u2212", "-")
    if not text:
        return None
    try:
        if integer:
            return int(text)
        number = float(text)
    except ValueError:
        return raw.strip()[:50]
    return int(number) if number.is_integer() and abs(number) < 1e15 else number


def meta_from_form(form: MultiDict) -> dict:
    return {
        "title": _text(form, "title"),
        "description": _text(form, "description"),
        "critical_scope": form.get("critical_scope", "section"),
    }


def condition_from_form(form: MultiDict) -> dict | None:
    """The condition picker: ``cond_question`` (empty: always shown), then for that question either
    ``cond_any_<key>`` checkboxes (values) or ``cond_op_<key>`` (at_most / at_least) with
    ``cond_bound_<key>``. A bound that does not parse stays text, for the validator to name."""
    key = (form.get("cond_question") or "").strip()
    if not key:
        return None
    op = form.get(f"cond_op_{key}")
    if op is not None:
        bound = _number(form.get(f"cond_bound_{key}"))
        return {"question": key, "at_least" if op == "at_least" else "at_most": "" if bound is None else bound}
    return {"question": key, "any_of": [v for v in form.getlist(f"cond_any_{key}") if v]}


def section_from_form(form: MultiDict) -> dict:
    doc = {
        "key": (form.get("key") or "").strip(),
        "title": _text(form, "title"),
        "dimension": form.get("dimension") or None,
        "guidance": _text(form, "guidance"),
    }
    weight = _number(form.get("weight"))
    if weight is not None:
        doc["weight"] = weight
    condition = condition_from_form(form)
    if condition is not None:
        doc["condition"] = condition
    return doc


def question_from_form(form: MultiDict) -> dict:
    kind = form.get("kind", "")
    channels = [c for c in form.getlist("channels") if c]
    doc: dict = {
        "key": (form.get("key") or "").strip(),
        "kind": kind,
        "prompt": _text(form, "prompt"),
        "guidance": _text(form, "guidance"),
        "required": form.get("required") == "y",
        "allow_na": form.get("allow_na") == "y",
        "critical": form.get("critical") == "y",
        "channels": channels if channels and set(channels) != set(CHANNELS) else None,
        "photo": form.get("photo", "none"),
    }
    weight = _number(form.get("weight"))
    if weight is not None:
        doc["weight"] = weight
    condition = condition_from_form(form)
    if condition is not None:
        doc["condition"] = condition
    if form.get("unscored") == "y":
        doc["unscored"] = True
    follow_up = form.get("follow_up", "none")
    if follow_up != "none":
        doc["follow_up"] = follow_up
        if follow_up in ("photo", "both") and doc["photo"] == "none":
            doc["photo"] = "allowed"  # a photo asked for on failure must be possible to add
    if kind == "yes_no":
        doc["good_answer"] = form.get("good_answer", "yes")
    elif kind == "scale":
        for name, default in (("min", 1), ("max", 5)):
            value = _number(form.get(f"scale_{name}"), integer=True)
            doc[name] = default if value is None else value
        for name in ("min_label", "max_label"):
            label = _text(form, name)
            if any(label.values()):
                doc[name] = label
    elif kind in ("choice", "multi"):
        options = []
        for i in range(MAX_ROWS):
            key = (form.get(f"opt_key_{i}") or "").strip()
            label = _text(form, f"opt_label_{i}")
            fraction = _number(form.get(f"opt_fraction_{i}"))
            if not key and not any(label.values()) and fraction is None:
                continue
            options.append({"key": key, "label": label, "fraction": fraction})
        doc["options"] = options
    elif kind == "number":
        doc["unit"] = form.get("unit", "")
        bands = []
        for i in range(MAX_ROWS):
            upto = _number(form.get(f"band_upto_{i}"))
            fraction = _number(form.get(f"band_fraction_{i}"))
            if upto is None and fraction is None:
                continue
            bands.append({"upto": upto, "fraction": fraction})
        doc["bands"] = bands
        above = _number(form.get("above"))
        doc["above"] = 0 if above is None else above
    return doc


def question_form_values(doc: dict) -> dict:
    """What the question form shows: the document plus blank option and band rows."""
    values = {name: doc.get(name) for name in ("key", "kind", "prompt", "guidance", "weight", "photo")}
    values.update(
        required=doc.get("required", True),
        allow_na=doc.get("allow_na", False),
        critical=doc.get("critical", False),
        channels=doc.get("channels") or [],
        good_answer=doc.get("good_answer", "yes"),
        min=doc.get("min", 1),
        max=doc.get("max", 5),
        min_label=doc.get("min_label") or {},
        max_label=doc.get("max_label") or {},
        unit=doc.get("unit", "minutes"),
        above=doc.get("above", 0),
        unscored=doc.get("unscored", False),
        follow_up=doc.get("follow_up", "none"),
        condition=doc.get("condition") or {},
    )
    values["options"] = list(doc.get("options") or []) + [{}] * EXTRA_ROWS
    values["bands"] = list(doc.get("bands") or []) + [{}] * EXTRA_ROWS
    if values["weight"] is None:
        values["weight"] = 1
    return values

