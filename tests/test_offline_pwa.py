"""The installable app's manifest and the versioned service worker (issue 15, offline-first form)."""

from __future__ import annotations

import json

from audit_app.submissions import offline


def test_the_manifest_names_the_app_in_the_users_language(app, login_as):
    client = app.test_client()
    fi = client.get("/manifest.webmanifest", headers={"Accept-Language": "fi"})
    assert fi.status_code == 200 and fi.mimetype == "application/manifest+json"
    body = json.loads(fi.data)
    assert body["name"] == "Ulkopuoliset arvioinnit" and body["lang"] == "fi"
    assert body["display"] == "standalone" and body["scope"] == "/"
    sizes = {icon["sizes"] for icon in body["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in body["icons"]:
        assert client.get(icon["src"]).status_code == 200
    en = json.loads(client.get("/manifest.webmanifest", headers={"Accept-Language": "en"}).data)
    assert en["name"] == "Outside-eye audits" and en["lang"] == "en"

    assert en["start_url"] == "/"
    evaluator = login_as("evaluator")
    assert json.loads(evaluator.get("/manifest.webmanifest").data)["start_url"] == "/my/visits"


def test_every_page_links_the_manifest(app):
    client = app.test_client()
    assert b'rel="manifest" href="/manifest.webmanifest"' in client.get("/login").data


def test_the_service_worker_is_served_from_the_root_with_its_version(app):
    client = app.test_client()
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    first_line = text.splitlines()[0]
    config = json.loads(first_line.removeprefix("self.OFFLINE_CONFIG = ").rstrip(";"))
    with app.app_context():
        assert config["version"] == offline.static_version()
    assert "/static/js/submissions.js" in config["precache"] and "/static/js/offline-queue.js" in config["precache"]
    assert any(url.startswith("/bootstrap/") for url in config["precache"])
    assert all(client.get(url).status_code == 200 for url in config["precache"])
    # the policy of every response: no inline script anywhere, the worker from this site only
    assert "worker-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_deploy_is_a_new_service_worker(app, tmp_path):
    client = app.test_client()
    with app.app_context():
        before = offline.static_version()
        app.extensions.pop("offline_static_version", None)
        (tmp_path / "js").mkdir()
        (tmp_path / "js" / "app.js").write_text("// changed")
        saved = app.static_folder
        app.static_folder = str(tmp_path)
        try:
            assert offline.static_version() != before  # another set of files, another version
        finally:
            app.static_folder = saved
            app.extensions.pop("offline_static_version", None)
        assert offline.static_version() == before
    app.config["OFFLINE_VERSION"] = "pinned"
    try:
        assert client.get("/sw.js").get_data(as_text=True).startswith('self.OFFLINE_CONFIG = {"version": "pinned"')
    finally:
        app.config.pop("OFFLINE_VERSION")
