# SPDX-License-Identifier: GPL-3.0-or-later
"""Failover across nodes: how long after a node dies (kill -9) captions flow
again, measured end to end over many trials.

Three `parley serve` nodes share a Redis and a PostgreSQL of their own
(benchlib.Cluster). A speaker types a caption every 200 ms; listeners read
them on another node. Two kinds of trial, in turn:

  listener node: the node the listeners are on is killed; each listener
      reconnects to the next node with `since` (as the listener page does:
      first try after 500 ms, then doubling). Measured: kill → the first
      final on the new connection, per listener.
  speaker node: the node running the session is killed; the speaker
      reconnects to the next node that takes it (as the speaker page does:
      a try every second) once the lease has lapsed (4 s). Measured: kill →
      the first new final at listeners on a third node.

After every trial each listener must have every final from where it
joined, in order, once; the killed node is started again.

Usage: python3 tests/bench/failover.py [--trials 20] [--binary build/release/src/parley]
"""
import argparse, statistics, sys, threading, time

from benchlib import Cluster, Ws, http

CAPTION_PERIOD_S = 0.2


class Speaker(threading.Thread):
    """Joins a node as the session's speaker and types a caption every
    200 ms. Its joins go to one node while it lives (as nginx's hash on the
    speaker sends them, docs/deploy.md), to the next once it refuses
    connections; a try a second (the speaker page's loop)."""
    def __init__(self, cluster, code, token, node):
        super().__init__(daemon=True)
        self.cluster, self.code, self.token, self.node = cluster, code, token, node
        self.stop = threading.Event()
        self.connected = threading.Event()
        self.sent = 0

    def join_node(self, node):
        """The welcomed connection, None when the node said to come again;
        raises OSError when the node is gone."""
        ws = Ws(self.cluster.ports[node])
        ws.text({"type": "join", "protocol": 1, "role": "speaker", "code": self.code, "token": self.token,
                 "takeover": True})
        end = time.monotonic() + 5
        while time.monotonic() < end:
            m = ws.message(timeout=end - time.monotonic())
            if m is None:
                break
            if m.get("type") == "welcome":
                return ws
            if m.get("type") == "error":
                break
        ws.close()
        return None

    def run(self):
        ws, node = None, self.node
        while not self.stop.is_set():
            if ws is None:
                try:
                    ws = self.join_node(node)
                except OSError:
                    node = (node + 1) % len(self.cluster.ports)
                if ws is None:
                    time.sleep(1.0)
                    continue
                self.node = node
                self.connected.set()
            try:
                ws.text({"type": "text", "text": f"Caption number {self.sent}."})
                self.sent += 1
                end = time.monotonic() + CAPTION_PERIOD_S
                while time.monotonic() < end:
                    ws.message(timeout=max(0.01, end - time.monotonic()))
            except (ConnectionError, OSError):
                self.connected.clear()
                ws.close()
                ws = None
        if ws:
            ws.close()


class Listener(threading.Thread):
    """A listener in English on one node, from `since`; reconnects to the
    next node with `since` = the last final it has, as the page does."""
    def __init__(self, cluster, code, node, since):
        super().__init__(daemon=True)
        self.cluster, self.code, self.node, self.since = cluster, code, node, since
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.finals = []  # (seq, monotonic time)
        self.welcomed = threading.Event()

    def last_seq(self):
        with self.lock:
            return self.finals[-1][0] if self.finals else self.since

    def run(self):
        node, backoff = self.node, 0.5
        while not self.stop.is_set():
            try:
                ws = Ws(self.cluster.ports[node])
                ws.text({"type": "join", "protocol": 1, "role": "listener", "code": self.code, "language": "en",
                         "since": self.last_seq(), "speech": "none"})
                while not self.stop.is_set():
                    m = ws.message(timeout=0.2)
                    if m is None:
                        continue
                    if m.get("type") == "welcome":
                        self.node, backoff = node, 0.5
                        self.welcomed.set()
                    elif m.get("type") == "final":
                        with self.lock:
                            self.finals.append((m["seq"], time.monotonic()))
                ws.close()
                return
            except (ConnectionError, OSError):
                time.sleep(backoff)
                backoff = min(backoff * 2, 8)
                node = (node + 1) % len(self.cluster.ports)

    def first_final_after(self, t):
        with self.lock:
            return next((at for seq, at in self.finals if at > t), None)

    def complete(self):
        """Every final from `since` on, in order, once."""
        with self.lock:
            seqs = [seq for seq, _ in self.finals]
        return seqs == list(range(self.since + 1, self.since + 1 + len(seqs))), seqs


def wait(predicate, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def quantiles(xs):
    xs = sorted(xs)
    pick = lambda q: xs[min(len(xs) - 1, max(0, int(round(q * len(xs) + 0.5)) - 1))]
    return f"n={len(xs)}  p50 {statistics.median(xs) * 1000:7.0f} ms  p95 {pick(0.95) * 1000:7.0f} ms  max {xs[-1] * 1000:7.0f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20, help="trials of each kind (default 20)")
    ap.add_argument("--listeners", type=int, default=5, help="listeners per trial (default 5)")
    ap.add_argument("--binary", default="build/release/src/parley")
    a = ap.parse_args()
    listener_recovery, speaker_recovery, failures = [], [], 0
    with Cluster(a.binary, 3) as cluster:
        status, body, _ = http(cluster.ports[0], "POST", "/api/sessions", {"name": "Failover", "sourceLanguage": "en"})
        assert status == 201, body
        import json
        created = json.loads(body)
        code, token = created["code"], created["speakerToken"]
        speaker = Speaker(cluster, code, token, 0)
        speaker.start()
        assert speaker.connected.wait(10), "the speaker could not join"
        status, body, _ = http(cluster.ports[0], "POST", f"/api/sessions/{code}/start", {}, token=token)
        assert status == 200, body
        last_seq = 0
        for trial in range(2 * a.trials):
            kind = "listener node" if trial % 2 == 0 else "speaker node"
            s = speaker.node
            listen_node = (s + 1 + trial // 2 % 2) % 3  # never the speaker's
            listeners = [Listener(cluster, code, listen_node, last_seq) for _ in range(a.listeners)]
            for l in listeners:
                l.start()
            if not all(l.welcomed.wait(10) for l in listeners) or not wait(
                    lambda: all(len(l.finals) >= 3 for l in listeners), 10):
                print(f"trial {trial + 1}: the listeners did not start hearing", file=sys.stderr)
                failures += 1
                break
            victim = listen_node if kind == "listener node" else s
            t_kill = time.monotonic()
            before = max(l.last_seq() for l in listeners)
            cluster.kill(victim)
            if kind == "listener node":
                ok = wait(lambda: all(l.first_final_after(t_kill + 0.001) for l in listeners
                                      if l.node != victim or l.welcomed.is_set()), 20)
                ok = ok and wait(lambda: all(l.node != victim for l in listeners), 20)
                times = [l.first_final_after(t_kill) for l in listeners]
                if ok and all(times):
                    listener_recovery += [t - t_kill for t in times]
            else:
                ok = wait(lambda: all(any(seq > before for seq, _ in l.finals) for l in listeners), 30)
                if ok:
                    firsts = [next(at for seq, at in l.finals if seq > before) for l in listeners]
                    speaker_recovery.append(min(firsts) - t_kill)
            time.sleep(1.0)  # a few finals after the recovery, to check their order
            for l in listeners:
                l.stop.set()
            for l in listeners:
                l.join(5)
            whole = [l.complete() for l in listeners]
            if not ok or not all(c for c, _ in whole):
                failures += 1
                print(f"trial {trial + 1} ({kind}): {'recovered' if ok else 'did not recover'}; "
                      f"finals per listener {[seqs[:3] + ['…'] + seqs[-3:] for _, seqs in whole]}", file=sys.stderr)
            last_seq = max(l.last_seq() for l in listeners)
            cluster.start(victim)
            print(f"trial {trial + 1:2d} {kind:13s} killed node {victim}: "
                  f"{'ok' if ok and all(c for c, _ in whole) else 'FAILED'}", file=sys.stderr)
        speaker.stop.set()
        speaker.join(5)
    print(f"listener node killed → its listeners hear again (per listener): {quantiles(listener_recovery)}")
    print(f"speaker node killed → captions flow again:                    {quantiles(speaker_recovery)}")
    print(f"trials with a missing, repeated or unordered final, or no recovery: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
