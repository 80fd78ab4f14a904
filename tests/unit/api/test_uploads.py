"""Uploads: presigned single PUT and multipart, completion, use by a project, cleanup on delete."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from chalicelib.data import storage
from chalicelib.data.models import Project, Upload

from .sigv4 import presigned_signature_valid

MiB = 1024 * 1024


def _secret() -> str:
    return storage.s3_client()._request_signer._credentials.get_frozen_credentials().secret_key


def test_single_put_upload_feeds_a_project(env):
    key = env.key("acme")
    data = os.urandom(4096)
    r = env.call("POST", "/v1/uploads", key, {"filename": "my talk.mp4", "content_type": "video/mp4",
                                              "size": len(data)})
    assert r.status == 201, r.json
    up = r.json
    assert up["id"].startswith("upl_") and up["status"] == "pending" and up["multipart"] is False
    assert up["method"] == "PUT" and up["headers"] == {"Content-Type": "video/mp4"} and up["parts"] is None
    url = up["upload_url"]
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert q["X-Amz-Expires"] == "3600"
    assert "content-type" in q["X-Amz-SignedHeaders"].split(";")
    row = Upload.get(up["id"])
    assert row.key == storage.upload_key("acme#live", up["id"], "my_talk.mp4") and row.filename == "my talk.mp4"
    assert unquote(urlsplit(url).path).endswith("/" + row.key)
    signed = {"content-type": "video/mp4", "content-length": str(len(data))}
    headers = {k: v for k, v in signed.items() if k in q["X-Amz-SignedHeaders"].split(";")}
    assert presigned_signature_valid(url, "PUT", _secret(), headers)
    assert not presigned_signature_valid(url, "GET", _secret(), headers)
    # creating a project before the bytes arrived is a conflict
    r = env.call("POST", "/v1/projects", key, {"upload_id": up["id"]})
    assert r.status == 409 and r.json["error"]["code"] == "upload_incomplete"
    assert requests.put(url, data=data, headers={"Content-Type": "video/mp4"}, timeout=5).status_code == 200
    done = env.call("POST", f"/v1/uploads/{up['id']}/complete", key)
    assert done.status == 200 and done.json["status"] == "uploaded"
    r = env.call("POST", "/v1/projects", key, {"upload_id": up["id"]})
    assert r.status == 201, r.json
    project = r.json
    assert project["upload_id"] == up["id"] and project["video_url"] is None
    assert Project.get(project["id"]).upload_key == row.key
    assert Upload.get(up["id"]).status == "consumed"
    again = env.call("POST", "/v1/projects", key, {"upload_id": up["id"]})
    assert again.status == 409 and again.json["error"]["code"] == "upload_consumed"
    assert env.call("POST", f"/v1/uploads/{up['id']}/complete", key).status == 409
    assert env.call("DELETE", f"/v1/projects/{project['id']}", key).status == 204
    assert storage.list_keys(storage.tenant_prefix("acme#live")) == []
    assert storage.list_keys(storage.UPLOADS_PREFIX) == []
    assert Upload.count(up["id"]) == 0


def test_uploads_wait_under_the_expiring_prefix_until_ingest_moves_them(env):
    """Unused uploads lose their object by the bucket's lifecycle rule; a used one is moved out of its reach."""
    from chalicelib.local.aws import create_bucket
    from chalicelib.pipeline.ingest import _stored_source
    from chalicelib.settings import get_settings

    create_bucket(get_settings(), None)  # as `klipstar serve` makes it: with the uploads rule
    rules = storage.s3_client().get_bucket_lifecycle_configuration(Bucket=storage.bucket())["Rules"]
    assert [(r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules] == [("uploads/", 3)]
    expiring = rules[0]["Filter"]["Prefix"]
    key = env.key("acme")
    data = os.urandom(2048)
    up = env.call("POST", "/v1/uploads", key, {"filename": "t.mp4", "content_type": "video/mp4",
                                               "size": len(data)}).json
    assert requests.put(up["upload_url"], data=data, headers={"Content-Type": "video/mp4"}, timeout=5).ok
    upload_key = Upload.get(up["id"]).key
    assert upload_key.startswith(expiring)  # forgotten, it expires
    project_id = env.call("POST", "/v1/projects", key, {"upload_id": up["id"]}).json["id"]
    moved = _stored_source(Project.get(project_id))  # ingest's first act
    assert not moved.startswith(expiring) and moved.startswith(storage.project_prefix("acme#live", project_id))
    assert storage.s3_client().get_object(Bucket=storage.bucket(), Key=moved)["Body"].read() == data
    assert storage.list_keys(expiring) == []
    assert Project.get(project_id).source_key == moved
    assert _stored_source(Project.get(project_id)) == moved  # a retried ingest reads the moved copy


def test_an_upload_past_its_lifetime_is_refused(env):
    from datetime import timedelta

    from chalicelib.data.uploads import UNUSED_LIFETIME

    key = env.key("acme")
    up = env.call("POST", "/v1/uploads", key, {"filename": "t.mp4", "content_type": "video/mp4", "size": 3}).json
    assert requests.put(up["upload_url"], data=b"abc", headers={"Content-Type": "video/mp4"}, timeout=5).ok
    row = Upload.get(up["id"])
    row.update(actions=[Upload.created_at.set(row.created_at - UNUSED_LIFETIME - timedelta(seconds=1))])
    r = env.call("POST", "/v1/projects", key, {"upload_id": up["id"]})
    assert r.status == 409 and r.json["error"]["code"] == "upload_expired" and r.json["error"]["param"] == "upload_id"
    assert Upload.get(up["id"]).status != "consumed" and env.executions() == []


def test_single_put_without_complete_call_is_accepted(env):
    key = env.key("acme")
    up = env.call("POST", "/v1/uploads", key, {"filename": "a.mov", "content_type": "video/quicktime",
                                               "size": 3}).json
    requests.put(up["upload_url"], data=b"abc", headers={"Content-Type": "video/quicktime"}, timeout=5)
    assert env.call("POST", "/v1/projects", key, {"upload_id": up["id"]}).status == 201


def test_multipart_upload(env, monkeypatch):
    from chalicelib.settings import get_settings

    monkeypatch.setenv("KLIPSTAR_UPLOAD_PART_BYTES", str(5 * MiB))
    get_settings.cache_clear()
    key = env.key("acme")
    data = os.urandom(11 * MiB + 123)
    up = env.call("POST", "/v1/uploads", key, {"filename": "long.mp4", "content_type": "video/mp4",
                                               "size": len(data)}).json
    assert up["multipart"] is True and up["upload_url"] is None and up["part_size"] == 5 * MiB
    assert [(p["part_number"], p["size"]) for p in up["parts"]] == [(1, 5 * MiB), (2, 5 * MiB), (3, MiB + 123)]
    for part in up["parts"]:
        q = {k: v[0] for k, v in parse_qs(urlsplit(part["upload_url"]).query).items()}
        assert q["partNumber"] == str(part["part_number"]) and q["uploadId"] == Upload.get(up["id"]).multipart_upload_id
    missing = env.call("POST", f"/v1/uploads/{up['id']}/complete", key, {})
    assert missing.status == 422 and missing.json["error"]["param"] == "parts"
    etags = []
    for part in up["parts"]:
        start = (part["part_number"] - 1) * up["part_size"]
        resp = requests.put(part["upload_url"], data=data[start : start + part["size"]], timeout=10)
        assert resp.status_code == 200
        etags.append({"part_number": part["part_number"], "etag": resp.headers["ETag"]})
    bad = env.call("POST", f"/v1/uploads/{up['id']}/complete", key, {"parts": [etags[1], etags[0], etags[2]]})
    assert bad.status == 422 and bad.json["error"]["param"] == "parts"
    done = env.call("POST", f"/v1/uploads/{up['id']}/complete", key, {"parts": etags})
    assert done.status == 200 and done.json["status"] == "uploaded"
    body = storage.s3_client().get_object(Bucket=storage.bucket(), Key=Upload.get(up["id"]).key)["Body"].read()
    assert body == data


def test_upload_errors(env):
    key = env.key("acme")
    r = env.call("POST", "/v1/uploads", key, {"filename": "x.mp4", "content_type": "video/mp4", "size": 6 * 1024**3})
    assert r.status == 413 and r.json["error"]["code"] == "file_too_large" and r.json["error"]["param"] == "size"
    for body, param in [
        ({"filename": "x.exe", "content_type": "application/x-msdownload", "size": 5}, "content_type"),
        ({"filename": "../../etc/passwd", "content_type": "video/mp4", "size": 5}, "filename"),
        ({"filename": "x.mp4", "content_type": "video/mp4", "size": 0}, "size"),
        ({"filename": "x.mp4", "content_type": "video/mp4"}, "size"),
        ({"filename": "x.mp4", "content_type": "video/mp4", "size": 5, "public": True}, "public"),
    ]:
        r = env.call("POST", "/v1/uploads", key, body)
        assert r.status == 400 and r.json["error"]["param"] == param, (body, r.json)
    assert env.call("POST", "/v1/uploads/upl_nothere/complete", key).status == 404
    r = env.call("POST", "/v1/projects", key, {"upload_id": "upl_nothere"})
    assert r.status == 404 and r.json["error"]["param"] == "upload_id"
    up = env.call("POST", "/v1/uploads", key, {"filename": "a.mp4", "content_type": "video/mp4", "size": 10}).json
    requests.put(up["upload_url"], data=b"12345", headers={"Content-Type": "video/mp4"}, timeout=5)
    r = env.call("POST", f"/v1/uploads/{up['id']}/complete", key)
    assert r.status == 422 and r.json["error"]["code"] == "size_mismatch"
    assert not storage.exists(Upload.get(up["id"]).key)


def _put_upload(env, key: str, data: bytes) -> dict:
    up = env.call("POST", "/v1/uploads", key, {"filename": "talk.mp4", "content_type": "video/mp4",
                                               "size": len(data)}).json
    assert requests.put(up["upload_url"], data=data, headers={"Content-Type": "video/mp4"}, timeout=5).ok
    return up


def test_delete_upload_removes_its_file_and_row(env):
    key, other = env.key("acme"), env.key("other")
    up = _put_upload(env, key, b"x" * 1000)
    folder = Upload.get(up["id"]).key.rsplit("/", 1)[0] + "/"
    assert len(storage.list_keys(folder)) == 1
    r = env.call("DELETE", f"/v1/uploads/{up['id']}", other)  # another account's: never revealed
    assert r.status == 404 and storage.list_keys(folder) and Upload.count(up["id"]) == 1
    assert env.call("DELETE", f"/v1/uploads/{up['id']}", key).status == 204
    assert storage.list_keys(folder) == [] and Upload.count(up["id"]) == 0
    assert env.call("DELETE", f"/v1/uploads/{up['id']}", key).status == 404
    # an upload a project uses stays (the project owns its file now)
    used = _put_upload(env, key, b"y" * 1000)
    assert env.call("POST", "/v1/projects", key, {"upload_id": used["id"]}).status == 201
    r = env.call("DELETE", f"/v1/uploads/{used['id']}", key)
    assert r.status == 409 and r.json["error"]["code"] == "upload_consumed"
    assert storage.list_keys(Upload.get(used["id"]).key) and Upload.get(used["id"]).status == "consumed"


def test_delete_pending_multipart_upload_aborts_it(env, monkeypatch):
    monkeypatch.setenv("KLIPSTAR_UPLOAD_PART_BYTES", str(5 * MiB))
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    key = env.key("acme")
    up = env.call("POST", "/v1/uploads", key, {"filename": "big.mp4", "content_type": "video/mp4",
                                               "size": 11 * MiB}).json
    row = Upload.get(up["id"])
    assert requests.put(up["parts"][0]["upload_url"], data=b"a" * (5 * MiB), timeout=10).ok
    assert env.call("DELETE", f"/v1/uploads/{up['id']}", key).status == 204
    listed = storage.s3_client().list_multipart_uploads(Bucket=storage.bucket()).get("Uploads", [])
    assert row.multipart_upload_id not in [u["UploadId"] for u in listed]


def test_sweeper_deletes_unused_uploads_objects_after_two_days(env):
    from datetime import timedelta

    from chalicelib.data.models import utcnow
    from chalicelib.data.uploads import ROW_TTL, UNUSED_LIFETIME
    from chalicelib.pipeline import sweeper

    key = env.key("acme")
    stale, fresh, used = (_put_upload(env, key, b"z" * 100) for _ in range(3))
    assert env.call("POST", "/v1/projects", key, {"upload_id": used["id"]}).status == 201
    for up in (stale, used):
        Upload.get(up["id"]).update(actions=[Upload.created_at.set(utcnow() - UNUSED_LIFETIME - timedelta(hours=1))])
    assert Upload.get(fresh["id"]).expires_at > utcnow() + UNUSED_LIFETIME  # the row outlives the sweep
    assert ROW_TTL > UNUSED_LIFETIME
    result = sweeper.handler({}, None)
    assert result["uploads_deleted"] == [stale["id"]]
    assert Upload.count(stale["id"]) == 0
    stale_folder = storage.upload_key("acme#live", stale["id"], "talk.mp4").rsplit("/", 1)[0] + "/"
    assert storage.list_keys(stale_folder) == []
    for up in (fresh, used):
        assert storage.list_keys(Upload.get(up["id"]).key)
