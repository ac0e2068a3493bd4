"""A bare Flask endpoint for bench/load_bench.py: the same route and JSON in and out, nothing else.

Served by gunicorn with the same settings as the app, it gives the ceiling the app's autosave
is compared with (``gunicorn --chdir bench bare_app:app``).
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/visits/<int:visit_id>/answers")
def save_answer(visit_id: int):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify({"error": "bad request"}), 400
    return jsonify({"ok": True, "saved_at": payload.get("answered_at"), "client_id": payload.get("client_id")})
