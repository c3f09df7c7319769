#!/usr/bin/env python3
"""deploy/test-fleet's load driver and its reports (standard library only).

  fleet-load.py load BASE OUT STOP_FILE MAX_SECONDS PASSWORD USER...
      One client thread per USER, each on its own loopback address (127.0.1.N: nginx limits
      logins per address) and one kept-alive connection: it logs in, then alternates refresh
      (rotating: each answer's refresh token is the next one sent) and verify, and logs in
      again every 2 s, or after a failed refresh (never twice within 1.1 s: nginx allows one
      login a second per address). A paced, bounded load: a pause
      of PAUSE_S after each request, and it stops when STOP_FILE exists or after MAX_SECONDS.
      Every request is one line of OUT: start (Unix time), op, status (0: no answer),
      latency in ms, client, then the error when there is one.

  fleet-load.py report OUT [FROM [TO]]
      The requests that started in [FROM, TO) (Unix times), as `key=value` words: total,
      ok, failed (anything but the expected 200), n5xx, no_answer, p50_ms, p99_ms, max_ms,
      and the failures (op, status, start) one per line after.
"""

import http.client
import json
import sys
import threading
import time

PAUSE_S = 0.01
RELOGIN_S = 2.0
# At most one login a second and a bit per address, whatever happens (nginx: 1 r/s per address).
LOGIN_GAP_S = 1.1
TIMEOUT_S = 30


def client(base, out, lock, stop_file, deadline, password, user, index):
    host, port = base.split(":")
    source = f"127.0.1.{index + 1}"
    conn = None
    access = refresh = None
    last_login = 0.0
    flip = False

    def request(op, path, body):
        nonlocal conn
        started = time.time()
        status, error, answer = 0, "", None
        try:
            if conn is None:
                conn = http.client.HTTPConnection(
                    host, int(port), timeout=TIMEOUT_S, source_address=(source, 0)
                )
            conn.request(
                "POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            status = response.status
            raw = response.read()
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
            try:
                answer = json.loads(raw or b"{}")
            except ValueError:
                error = "not JSON: " + raw[:80].decode(errors="replace")
        except (OSError, http.client.HTTPException) as e:
            error = repr(e)
            if conn is not None:
                conn.close()
            conn = None
        ms = (time.time() - started) * 1000
        with lock:
            out.write(f"{started:.6f} {op} {status} {ms:.2f} {user} {error}\n".rstrip() + "\n")
        return status, answer

    while time.time() < deadline:
        try:
            open(stop_file).close()
            break
        except FileNotFoundError:
            pass
        now = time.time()
        since_login = now - last_login
        if since_login >= LOGIN_GAP_S and (refresh is None or since_login >= RELOGIN_S):
            last_login = now
            status, answer = request(
                "login", "/api/token/", {"username": user, "password": password}
            )
            if status == 200 and answer:
                access, refresh = answer["access"], answer["refresh"]
        elif flip and refresh is not None:
            status, answer = request("refresh", "/api/token/refresh/", {"refresh": refresh})
            if status == 200 and answer:
                access = answer["access"]
                refresh = answer.get("refresh", refresh)
            else:
                # Its rotation may have happened without the answer reaching us: presenting the
                # old token again would be reuse. Log in again instead.
                refresh = None
        elif access is not None:
            request("verify", "/api/token/verify/", {"token": access})
        flip = not flip
        time.sleep(PAUSE_S)


def load(args):
    base, out_path, stop_file, max_seconds, password, *users = args
    deadline = time.time() + float(max_seconds)
    lock = threading.Lock()
    with open(out_path, "a", buffering=1) as out:
        threads = [
            threading.Thread(
                target=client,
                args=(base, out, lock, stop_file, deadline, password, user, i),
                daemon=True,
            )
            for i, user in enumerate(users)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def report(args):
    path = args[0]
    lo = float(args[1]) if len(args) > 1 else 0.0
    hi = float(args[2]) if len(args) > 2 else float("inf")
    rows = []
    for line in open(path):
        parts = line.split(maxsplit=5)
        start, op, status, ms = float(parts[0]), parts[1], int(parts[2]), float(parts[3])
        if lo <= start < hi:
            rows.append((start, op, status, ms, parts[5].strip() if len(parts) > 5 else ""))
    failed = [r for r in rows if r[2] != 200]
    latencies = [r[3] for r in rows]
    print(
        f"total={len(rows)} ok={len(rows) - len(failed)} failed={len(failed)}"
        f" n5xx={sum(1 for r in rows if r[2] >= 500)}"
        f" no_answer={sum(1 for r in rows if r[2] == 0)}"
        f" p50_ms={percentile(latencies, 50):.1f} p99_ms={percentile(latencies, 99):.1f}"
        f" max_ms={max(latencies, default=0):.1f}"
    )
    for start, op, status, ms, error in failed[:50]:
        print(f"  {op} {status} at {start:.3f} ({ms:.0f} ms) {error}")


if __name__ == "__main__":
    {"load": load, "report": report}[sys.argv[1]](sys.argv[2:])
