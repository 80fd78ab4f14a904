"""Plan limits: write windows, the separate read budget, IETF headers, concurrency slots, parallel admission.

Writes are probed with DELETE of a missing project (a 404 still counts and takes no concurrency slot).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.data import quotas
from chalicelib.data.models import Project, RateCounter

from .apienv import T0

MISSING = "/v1/projects/proj_nope"


def _rate_headers(r):
    return {h: r.header(h) for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")}


def test_spark_minute_window_and_headers(env):
    key = env.key("solo", "spark")
    env.clock.t = T0 + 15  # 45 s left in this minute
    r = env.call("DELETE", MISSING, key, tick=False)
    assert r.status == 404
    assert _rate_headers(r) == {"RateLimit-Limit": "1", "RateLimit-Remaining": "0", "RateLimit-Reset": "45"}
    assert r.header("RateLimit") == '"writes-minute";r=0;t=45'
    assert r.header("RateLimit-Policy") == '"writes-minute";q=1;w=60, "writes-hour";q=10;w=3600'
    env.clock.advance(30)
    r = env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/a.mp4"}, tick=False)
    assert r.status == 429
    assert r.json["error"]["type"] == "rate_limit_error" and r.json["error"]["code"] == "rate_limited"
    assert r.header("Retry-After") == "15"
    assert _rate_headers(r) == {"RateLimit-Limit": "1", "RateLimit-Remaining": "0", "RateLimit-Reset": "15"}
    assert r.header("RateLimit") == '"writes-minute";r=0;t=15'
    assert len(env.executions()) == 0
    env.clock.advance(15)  # next minute
    assert env.call("DELETE", MISSING, key, tick=False).status == 404
    # every authenticated write counts, whatever its outcome (the 404 above too)
    assert env.call("DELETE", MISSING, key, tick=False).status == 429


def test_hour_window_and_refused_requests_do_not_use_the_minute(env):
    key = env.key("solo", "spark")
    env.clock.t = T0
    for i in range(10):
        r = env.call("DELETE", MISSING, key, tick=False)
        assert r.status == 404, i
        env.clock.advance(60)
    assert r.header("RateLimit-Remaining") == "0" and r.header("RateLimit-Limit") in {"1", "10"}
    # 10 minutes in: the minute window is fresh but the hour is spent
    r = env.call("DELETE", MISSING, key, tick=False)
    assert r.status == 429
    assert r.header("Retry-After") == str(3600 - 600) and r.header("RateLimit-Limit") == "10"
    assert r.header("RateLimit") == f'"writes-hour";r=0;t={3600 - 600}'
    minute = int(env.clock.t // 60)
    assert RateCounter.get(f"solo#min#{minute}").count == 0  # the refused request was given back
    assert RateCounter.get(f"solo#hour#{int(env.clock.t // 3600)}").count == 10
    assert env.call("GET", "/v1/projects", key, tick=False).status == 200  # reads are not in these windows
    env.clock.t = T0 + 3600
    assert env.call("DELETE", MISSING, key, tick=False).status == 404
    counter = RateCounter.get(f"solo#min#{int(env.clock.t // 60)}")
    assert counter.expires_at.timestamp() == (int(env.clock.t // 60) + 2) * 60  # TTL set on counters


def test_plans_per_minute(env):
    for plan, limit in (("creator", 3), ("studio", 15)):
        key = env.key(f"acct-{plan}", plan)
        env.clock.t = T0 + 7200
        statuses = [env.call("DELETE", MISSING, key, tick=False).status for _ in range(limit + 1)]
        assert statuses == [404] * limit + [429], plan


def test_reads_have_their_own_budget_per_plan(env):
    key = env.key("reader", "spark")
    env.clock.t = T0 + 30_000  # the start of a minute
    reads = quotas.limits_for("spark").reads_per_minute
    assert reads >= 60
    assert env.call("GET", MISSING, key, tick=False).status == 404
    minute = int(env.clock.t // 60)
    assert RateCounter.get(f"reader#rmin#{minute}").count == 1  # the read was charged to the reads window
    RateCounter(f"reader#rmin#{minute}", count=reads - 1).save()  # as if 119 more reads came this minute
    r = env.call("GET", "/v1/projects", key, tick=False)
    assert r.status == 200 and r.header("RateLimit") == '"reads-minute";r=0;t=60'
    r = env.call("GET", "/v1/projects", key, tick=False)
    assert r.status == 429 and r.json["error"]["code"] == "rate_limited"
    assert r.header("RateLimit") == '"reads-minute";r=0;t=60' and r.header("Retry-After") == "60"
    assert r.header("RateLimit-Policy") == f'"reads-minute";q={reads};w=60'
    # the writes budget is untouched by all those reads
    assert env.call("DELETE", MISSING, key, tick=False).status == 404
    env.clock.advance(60)
    r = env.call("GET", "/v1/projects", key, tick=False)
    assert r.status == 200 and r.header("RateLimit") == f'"reads-minute";r={reads - 1};t=60'


def test_polling_client_on_spark_for_five_minutes(env):
    """Polls its project every second for five minutes and tries to start another project three times a
    minute (the clock is simulated: no sleeping)."""
    key = env.key("poller", "spark")
    env.clock.t = (int((T0 + 40_000) // 60) + 1) * 60  # the start of a minute
    created: list[int] = []
    project_id = None
    for second in range(300):
        if second % 20 == 0:
            r = env.call("POST", "/v1/projects", key, {"video_url": f"https://videos.example.com/{second}.mp4"},
                         tick=False)
            if r.status == 201:
                project_id = r.json["id"]
                created.append(second // 60)
                quotas.release_project_slot(project_id)  # what the pipeline does when the project finishes
            else:
                assert r.status == 429 and r.json["error"]["code"] == "rate_limited", (second, r.json)
                assert r.header("RateLimit") == f'"writes-minute";r=0;t={60 - second % 60}'
        poll = env.call("GET", f"/v1/projects/{project_id}", key, tick=False)
        assert poll.status == 200, (second, poll.json)
        assert poll.header("RateLimit") == f'"reads-minute";r={119 - second % 60};t={60 - second % 60}'
        env.clock.advance(1)
    assert created == [0, 1, 2, 3, 4]  # exactly one creation admitted per minute
    assert len(env.executions()) == 5


def test_limits_are_per_account_across_keys_and_modes(env):
    live = env.key("acme", "spark")
    test = env.key("acme", "spark", mode="test")
    other = env.key("other", "spark")
    assert env.call("DELETE", MISSING, live, tick=False).status == 404
    assert env.call("DELETE", MISSING, test, tick=False).status == 429
    assert env.call("DELETE", MISSING, other, tick=False).status == 404


def test_concurrency_slots_are_taken_and_released_once(env):
    key = env.key("acme", "creator")
    ids = [env.call("POST", "/v1/projects", key, {"video_url": f"https://videos.example.com/{i}.mp4"}).json["id"]
           for i in range(3)]
    r = env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/4.mp4"})
    assert r.status == 429 and r.json["error"]["code"] == "concurrency_limited"
    assert r.header("Retry-After") == str(quotas.CONCURRENCY_RETRY_SECONDS)
    assert len(env.executions()) == 3 and quotas.in_flight("acme") == 3
    project = Project.get(ids[0])
    assert quotas.release_project_slot(project) is True
    assert quotas.release_project_slot(ids[0]) is False  # idempotent (the pipeline may retry)
    assert quotas.release_project_slot(Project.get(ids[0])) is False
    assert quotas.in_flight("acme") == 2 and Project.get(ids[0]).slot_released is True
    assert env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/5.mp4"}).status == 201
    # deleting an already-released project does not free a second slot
    assert env.call("DELETE", f"/v1/projects/{ids[0]}", key).status == 204
    assert quotas.in_flight("acme") == 3
    # releasing a deleted project neither frees a slot nor recreates its row
    assert quotas.release_project_slot(project) is False
    assert Project.count(ids[0]) == 0


def test_fifty_parallel_requests_on_spark_admit_exactly_one(env):
    key = env.key("rush", "spark")
    env.clock.t = T0 + 10_000
    body = {"video_url": "https://videos.example.com/rush.mp4"}

    def fire(_):
        return env.call("POST", "/v1/projects", key, body, tick=False)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(fire, range(50)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] + [429] * 49
    assert all(r.json["error"]["code"] == "rate_limited" for r in responses if r.status == 429)
    assert all(r.header("Retry-After") for r in responses if r.status == 429)
    assert len(env.executions()) == 1
    minute, hour = int(env.clock.t // 60), int(env.clock.t // 3600)
    assert RateCounter.get(f"rush#min#{minute}").count == 1
    assert RateCounter.get(f"rush#hour#{hour}").count == 1
    assert quotas.in_flight("rush") == 1


def test_fifty_parallel_project_creations_respect_concurrency(env):
    key = env.key("crowd", "studio")
    env.clock.t = T0 + 20_000

    def fire(i):
        env.clock.advance(0)  # all inside one minute: 15 admitted by the rate limit
        return env.call("POST", "/v1/projects", key, {"video_url": f"https://videos.example.com/{i}.mp4"},
                        tick=False)

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(fire, range(50)))
    codes = [r.json["error"]["code"] for r in responses if r.status == 429]
    assert sum(r.status == 201 for r in responses) == 10
    assert codes.count("concurrency_limited") == 5 and codes.count("rate_limited") == 35
    assert quotas.in_flight("crowd") == 10 and len(env.executions()) == 10
