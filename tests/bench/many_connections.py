#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Many connections from many addresses (the hardening issue's fault test):
COUNT WebSocket listeners from ADDRESSES source addresses 127.0.0.2, .3, …
join one live session and stay; meanwhile the script times /healthz and a
fresh join, then one more address tries to open more than the per-address
cap. Prints the server's RSS and open files before, while held and after
everyone left. Bounded in count and time; traffic stays on 127.0.0.0/8.

Usage: tests/bench/many_connections.py --bin build/release/src/parley
       [--count 15000] [--addresses 60] [--cap 1000]
"""
import argparse, json, resource, time

from benchlib import Server, Ws, create_session, http, join_listener

def open_listener(port, source, code):
    ws = Ws(port, source, receive_buffer=4096)
    join_listener(ws, code)
    return ws.s

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--count", type=int, default=15000)
    ap.add_argument("--addresses", type=int, default=60)
    ap.add_argument("--cap", type=int, default=1000)
    ap.add_argument("--port", type=int, default=18779)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with Server(a.bin, a.port, "--max-connections-per-address", str(a.cap), "--rate-join-per-min", "0",
                "--max-listeners-per-session", "100000") as server:
        code = create_session(a.port, "Crowd")["code"]
        rss0, fds0 = proc(server)
        held, failed = [], 0
        t0 = time.monotonic()
        for i in range(a.count):
            if time.monotonic() - t0 > 600: break  # bounded in time
            try:
                held.append(open_listener(a.port, f"127.0.0.{2 + i % a.addresses}", code))
            except (OSError, ConnectionError):
                failed += 1
        opened_s = time.monotonic() - t0
        time.sleep(2)
        rss1, fds1 = proc(server)
        t = time.monotonic(); status, _, _ = http(a.port, "GET", "/healthz"); health_ms = (time.monotonic() - t) * 1000
        t = time.monotonic(); extra = open_listener(a.port, "127.0.0.250", code); join_ms = (time.monotonic() - t) * 1000
        extra.close()
        _, info, _ = http(a.port, "GET", f"/api/sessions/{code}")
        listeners = json.loads(info)["listeners"]["total"]
        # One more address over its cap.
        crowd, refused = [], 0
        for _ in range(a.cap + 200):
            try:
                crowd.append(open_listener(a.port, "127.0.0.251", code))
            except (OSError, ConnectionError):
                refused += 1
        for s in held + crowd: s.close()
        time.sleep(5)
        rss2, fds2 = proc(server)
        _, info, _ = http(a.port, "GET", f"/api/sessions/{code}")
        after = json.loads(info)["listeners"]["total"]
        print(f"| connections held | from addresses | open time | failed | listeners counted | /healthz while held | a new join while held |")
        print(f"|---|---|---|---|---|---|---|")
        print(f"| {len(held)} | {a.addresses} | {opened_s:.1f} s | {failed} | {listeners} | {health_ms:.1f} ms (HTTP {status}) | {join_ms:.1f} ms |")
        print()
        print(f"| server | RSS (MB) | open files |\n|---|---|---|")
        print(f"| before | {rss0:.1f} | {fds0} |\n| holding {len(held)} | {rss1:.1f} | {fds1} |\n| after all left | {rss2:.1f} | {fds2} |")
        print()
        print(f"one address over its cap of {a.cap}: {len(crowd)} accepted, {refused} refused; listeners after all left: {after}")

if __name__ == "__main__":
    main()
