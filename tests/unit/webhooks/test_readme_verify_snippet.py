"""The README's standard-library verification snippet accepts our signatures and rejects forgeries."""

from __future__ import annotations

import re
import time
from pathlib import Path

from chalicelib.webhooks.signing import sign, sign_all

README = Path(__file__).resolve().parents[3] / "README.md"


def _snippet_verify():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    code = next(b for b in blocks if "def verify(" in b)
    namespace: dict = {}
    exec(compile(code, "README-snippet", "exec"), namespace)
    return namespace["verify"]


def test_snippet_accepts_a_real_signature_and_rejects_tampering() -> None:
    verify = _snippet_verify()
    body = b'{"event":"project.completed","project_id":"proj_1"}'
    header = sign("whsec_abc", int(time.time()), body)
    assert verify("whsec_abc", header, body)
    assert not verify("whsec_abc", header, body + b" ")
    assert not verify("whsec_other", header, body)
    assert not verify("whsec_abc", sign("whsec_abc", int(time.time()) - 3600, body), body)
    assert not verify("whsec_abc", "garbage", body)


def test_snippet_accepts_either_secret_while_one_rotates() -> None:
    verify = _snippet_verify()
    body = b'{"event":"project.failed","project_id":"proj_1"}'
    header = sign_all(["whsec_new", "whsec_old"], int(time.time()), body)
    assert verify("whsec_new", header, body) and verify("whsec_old", header, body)
    assert not verify("whsec_other", header, body)
