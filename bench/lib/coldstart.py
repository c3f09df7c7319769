#!/usr/bin/env python3
"""Cold start: from the exec of `server` to the first 200 answer of GET /api/me/.

    coldstart.py SERVER_BIN WORKERS RUNS AUTHORIZATION

Runs the server RUNS times with WORKERS worker processes (settings from the environment, the
database already migrated, the user already made), each time on a fresh free port. The clock
starts just before the exec and stops when the first answer to `GET /api/me/` with the given
Authorization header has arrived with status 200: a connection refused (the master has not
bound yet) is retried at once; a connection the master accepted into its backlog waits there
until a worker takes it, which is the cost being measured (each worker's start, its pool, the
user lookup of the first request). A non-200 answer other than 503 (not ready) fails the run.

Prints one line: `COLDSTART workers=N runs=R median_ms=X min_ms=Y max_ms=Z`.
"""

import signal
import socket
import statistics
import subprocess
import sys
import time

DEADLINE_S = 30.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_answer(port, authorization, started):
    """Seconds from `started` to the first 200; raises on a wrong answer or after the deadline."""
    request = (
        "GET /api/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {authorization}\r\nConnection: close\r\n\r\n"
    ).encode()
    while time.perf_counter() - started < DEADLINE_S:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
        except ConnectionRefusedError:
            time.sleep(0.0005)
            continue
        with conn:
            conn.sendall(request)
            head = b""
            while b"\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                head += chunk
        elapsed = time.perf_counter() - started
        status = head.split(b" ", 2)[1:2]
        if status == [b"200"]:
            return elapsed
        if status == [b"503"] or not head:
            time.sleep(0.0005)
            continue
        raise RuntimeError(f"unexpected answer: {head[:200]!r}")
    raise RuntimeError(f"no 200 within {DEADLINE_S} s")


def one_run(server, workers, authorization, log):
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [server, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        return first_answer(port, authorization, started)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    server, workers, runs, authorization = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    # The servers' output, for when a run fails: in the current directory.
    with open(f"coldstart.w{workers}.log", "wb") as log:
        times = [one_run(server, workers, authorization, log) * 1000 for _ in range(runs)]
    print(
        f"COLDSTART workers={workers} runs={runs} median_ms={statistics.median(times):.1f} "
        f"min_ms={min(times):.1f} max_ms={max(times):.1f}"
    )


if __name__ == "__main__":
    main()
