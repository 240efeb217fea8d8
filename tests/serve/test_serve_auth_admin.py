"""API keys and scopes, ``segrec keys create``, and ``POST /admin/reload``."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from servekit import Service
from typer.testing import CliRunner

from segrec.serve import revoke_key


def test_keys_and_scopes(svc: Service, items: list[str]) -> None:
    c, ev = svc.client, {"events": [{"item_id": items[0]}]}
    r = c.get("/segments")
    assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
    assert c.get("/segments", headers={"X-API-Key": "sgr_nope_nope"}).status_code == 401
    assert c.get("/segments", headers={"X-API-Key": "garbage"}).status_code == 401
    bearer = {"Authorization": f"Bearer {svc.keys['read']}"}
    assert c.get("/segments", headers=bearer).status_code == 200
    r = c.post("/users/a1/events", headers=svc.h("read"), json=ev)
    assert r.status_code == 403 and "needs 'write'" in r.json()["detail"]
    assert c.post("/assign", headers=svc.h("read"), json=ev).status_code == 403
    assert c.delete("/users/u0000001", headers=svc.h("read")).status_code == 403
    assert c.post("/users/a1/events", headers=svc.h("write"), json=ev).status_code == 201
    assert c.post("/users/a1/events", headers=svc.h("admin"), json=ev).status_code == 201
    assert c.post("/admin/reload", headers=svc.h("write")).status_code == 403
    # a key in the query string counts only for the dashboard page
    assert c.get(f"/segments?key={svc.keys['read']}").status_code == 401
    key_id = svc.keys["read"].split("_")[1]
    assert revoke_key(svc.storage.engine, key_id)
    # a key check is reused for key_cache_seconds (2 s by default), then read again
    cache = c.app.state.keys  # type: ignore[attr-defined]
    assert cache.seconds == 2.0
    assert c.get("/segments", headers=svc.h()).status_code == 200
    time.sleep(cache.seconds + 0.1)
    assert c.get("/segments", headers=svc.h()).status_code == 401


def test_key_cache_keeps_answers_for_its_seconds_only() -> None:
    from segrec.serve._keys import KEY_UNCHECKED, ApiKey, KeyCache

    key = ApiKey("abc", "read")
    off = KeyCache(0)
    assert off.put("sgr_abc_x", key) is key and off.get("sgr_abc_x") is KEY_UNCHECKED
    cache = KeyCache(0.2, size=2)
    assert cache.get("sgr_abc_x") is KEY_UNCHECKED
    cache.put("sgr_abc_x", key)
    cache.put("sgr_bad_y", None)  # a refusal is kept too
    assert cache.get("sgr_abc_x") is key and cache.get("sgr_bad_y") is None
    cache.put("sgr_new_z", key)  # over size: the oldest answer goes
    assert cache.get("sgr_abc_x") is KEY_UNCHECKED
    time.sleep(0.25)
    assert cache.get("sgr_new_z") is KEY_UNCHECKED


def test_keys_are_stored_hashed(svc: Service) -> None:
    import sqlalchemy as sa

    with svc.storage.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT key_id, secret_sha256 FROM api_keys")).all()
    secrets = {k.split("_", 2)[2] for k in svc.keys.values()}
    assert len(rows) == 3 and not secrets & {r.secret_sha256 for r in rows}


def test_cli_keys_create(model_dir: Path, tmp_path: Path) -> None:
    from segrec.cli import _serve  # noqa: F401  (registers the commands)
    from segrec.cli._app import app
    from segrec.serve import Storage
    from segrec.serve._keys import verify_key

    url = f"sqlite:///{tmp_path / 'k.db'}"
    r = CliRunner().invoke(app, ["keys", "create", "--scope", "write", "--db", url])
    assert r.exit_code == 0, r.output
    key = r.output.strip()
    assert key.startswith("sgr_")
    found = verify_key(Storage(url).engine, key)
    assert found is not None and found.scope == "write"
    r = CliRunner().invoke(app, ["keys", "create", "--scope", "root", "--db", url])
    assert r.exit_code != 0


def test_reload_swaps_and_bad_folders_keep_serving(svc: Service, tmp_path: Path) -> None:
    c, admin = svc.client, svc.h("admin")
    r = c.post("/admin/reload", headers=admin)
    assert r.status_code == 200 and r.json()["model_dir"] == str(svc.model_dir)
    copy = tmp_path / "model-v2"
    shutil.copytree(svc.model_dir, copy)
    r = c.post("/admin/reload", headers=admin, json={"model_dir": str(copy)})
    assert r.status_code == 200 and r.json()["model_dir"] == str(copy.resolve())

    r = c.post("/admin/reload", headers=admin, json={"model_dir": str(tmp_path / "missing")})
    assert r.status_code == 422 and "no such folder" in r.json()["detail"]
    corrupt = tmp_path / "corrupt"
    shutil.copytree(svc.model_dir, corrupt)
    (corrupt / "model.json").write_text("{ this is not json")
    r = c.post("/admin/reload", headers=admin, json={"model_dir": str(corrupt)})
    assert r.status_code == 422 and "failed to load" in r.json()["detail"]
    halfway = tmp_path / "halfway"
    shutil.copytree(svc.model_dir, halfway)
    for f in halfway.glob("*.npz"):
        f.write_bytes(b"truncated")
    r = c.post("/admin/reload", headers=admin, json={"model_dir": str(halfway)})
    assert r.status_code == 422, r.text
    # the previous model still serves
    assert c.get("/users/u0000001/segment", headers=svc.h()).status_code == 200
    assert c.get("/readyz").status_code == 200


def test_reload_folds_stored_events_into_the_new_model(svc: Service, items: list[str]) -> None:
    c = svc.client
    a = c.post(
        "/users/rl1/events", headers=svc.h("write"), json={"events": [{"item_id": items[5]}]}
    ).json()["assignment"]
    assert c.post("/admin/reload", headers=svc.h("admin")).status_code == 200
    b = c.get("/users/rl1/segment", headers=svc.h()).json()
    assert b["segment_id"] == a["segment_id"]
