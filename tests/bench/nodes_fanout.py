# SPDX-License-Identifier: GPL-3.0-or-later
"""Caption fan-out on several nodes against one node, in the same run.

Each round, in turn, each server fresh:
  one node     `parley serve` alone (SQLite, no Redis), all the listeners;
  three nodes  benchlib.Cluster: three nodes, one Redis, one PostgreSQL; the
               session is created and spoken to on the first node, the
               listener processes spread evenly over the three;
  three nodes, a fifth of the listeners: Redis's work per message must not
               depend on how many listen;
  three nodes at ten times the rate, with 1/50 and 1/10 of the listeners:
               Redis's CPU per message with ten times the signal (at 5
               captions/s its idle work, heartbeats and its own timers, is
               as large as the run's).
parley-load (tools/load) connects the listeners, types captions at --rate
for --duration and reports delivery latency, loss, server CPU per delivery
(summed over the nodes) and, for the clusters, Redis's CPU per published
message (INFO cpu over the run, less as long a wait with nothing said).

With --runs …,speech, one more run per round: speakers streaming recordings in
real time on the first node, listeners in Spanish and French spread over
the three (captions, partials and translated speech cross Redis): Redis's
CPU and bytes per published message in a live session's mix.

Everything shares this machine's cores: the nodes, Redis, PostgreSQL and the
load generator. Prints a table of medians over rounds; writes every JSON
report to --out.

Usage: python3 tests/bench/nodes_fanout.py [--listeners 15000] [--rounds 2] [--duration 30] [--out DIR]
                                          [--runs one,three,fifth,redis,speech] [--speakers 2]
"""
import argparse, glob, json, os, statistics, subprocess, sys, tempfile

from benchlib import Cluster, Server, free_port

SERVE_ARGS = ["--max-connections-per-address", "0", "--rate-join-per-min", "0"]  # one address plays many listeners


def load(args, servers, listen_on, pids, redis=None, listeners=None, speech=False, rate=None):
    cmd = [f"{args.build}/tools/parley-load", "speech" if speech else "captions", "--server", f"127.0.0.1:{servers}",
           "--listeners", str(listeners or args.listeners), "--procs", str(args.procs),
           "--duration", str(args.duration), "--drain", "3", "--json"]
    if speech:
        cmd += ["--speakers", str(args.speakers), "--languages", "es,fr"]
        for wav in sorted(glob.glob("/usr/share/pocketsphinx/test/data/librivox/*.wav")):
            cmd += ["--wav", wav]
    else:
        cmd += ["--rate", str(rate or args.rate)]
    for port in listen_on:
        cmd += ["--listen-on", f"127.0.0.1:{port}"]
    for pid in pids:
        cmd += ["--server-pid", str(pid)]
    if redis:
        cmd += ["--redis", f"127.0.0.1:{redis}"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=args.duration * 3 + 600)
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listeners", type=int, default=15000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--duration", type=float, default=30, help="seconds of captions (default 30)")
    ap.add_argument("--rate", type=float, default=5, help="captions per second (default 5)")
    ap.add_argument("--procs", type=int, default=6, help="listener processes, spread over the nodes (default 6)")
    ap.add_argument("--runs", default="one,three,fifth,redis",
                    help="which runs, of one,three,fifth,redis,speech (default: all but speech, a live speech run "
                         "from pocketsphinx-testdata's recordings)")
    ap.add_argument("--speakers", type=int, default=2, help="speakers of the speech run (default 2)")
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="parley-nodes-fanout-")
    os.makedirs(out, exist_ok=True)
    binary = f"{a.build}/src/parley"
    reports = {}
    for round_ in range(1, a.rounds + 1):
        runs = {"one": [("one node", a.listeners, a.rate)], "three": [("three nodes", a.listeners, a.rate)],
                "fifth": [("three nodes", a.listeners // 5, a.rate)],
                "redis": [("three nodes", a.listeners // 50, a.rate * 10), ("three nodes", a.listeners // 10, a.rate * 10)],
                "speech": [("three nodes, speech", 60 * a.speakers, a.rate)]}
        runs = [run for key in a.runs.split(",") for run in runs[key]]
        for name, listeners, rate in runs:
            print(f"== round {round_}: {name}, {listeners} listeners, {rate:g} captions/s", file=sys.stderr, flush=True)
            if name == "one node":
                port = free_port()
                with Server(binary, port, *SERVE_ARGS) as server:
                    r = load(a, port, [port], [server.pid], listeners=listeners, rate=rate)
            else:
                with Cluster(binary, 3, *SERVE_ARGS) as cluster:
                    r = load(a, cluster.ports[0], cluster.ports, [cluster.pid(i) for i in range(3)],
                             redis=cluster.redis_port, listeners=listeners, speech="speech" in name, rate=rate)
            key = f"{name}, {listeners} listeners" + (f", {rate:g}/s" if rate != a.rate else "")
            reports.setdefault(key, []).append(r)
            with open(f"{out}/{name.replace(' ', '-').replace(',', '')}-{listeners}-{rate:g}-{round_}.json", "w") as f:
                json.dump(r, f, indent=2)
    print(f"{'run':42} {'rounds':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'lost':>6} {'µs/delivery':>12} "
          f"{'CPU-s by node':>20} {'Redis µs/msg':>13} {'msgs':>6} {'B in/msg':>9} {'B out/msg':>9}")
    for key, rs in reports.items():
        med = lambda f: statistics.median(f(r) for r in rs)
        if "speech" in key:
            continue
        by_node = "/".join(f"{statistics.median(r['server']['cpuSecondsByProcess'][i] for r in rs):.1f}"
                           for i in range(len(rs[0]["server"]["cpuSecondsByProcess"])))
        redis = (f"{med(lambda r: r['redis']['cpuMicrosecondsPerPublished']):13.1f} "
                 f"{med(lambda r: r['redis']['messagesPublished'] - r['redis']['messagesPublishedIdle']):6.0f} "
                 f"{med(lambda r: r['redis']['bytesInPerPublished']):9.0f} {med(lambda r: r['redis']['bytesOutPerPublished']):9.0f}"
                 if "redis" in rs[0] else f"{'—':>13} {'—':>6} {'—':>9} {'—':>9}")
        print(f"{key:42} {len(rs):>6} {med(lambda r: r['delivery']['p50Ms']):8.1f} "
              f"{med(lambda r: r['delivery']['p95Ms']):8.1f} {med(lambda r: r['delivery']['p99Ms']):8.1f} "
              f"{med(lambda r: r['lost']):6.0f} {med(lambda r: r['server']['cpuMicrosecondsPerDelivery']):12.2f} "
              f"{by_node:>20} {redis}")
    for key, rs in reports.items():
        if "speech" not in key:
            continue
        med = lambda f: statistics.median(f(r) for r in rs)
        print(f"{key}: end of speech → final p50 {med(lambda r: r['finalCaption']['p50Ms']):.0f} ms, "
              f"p95 {med(lambda r: r['finalCaption']['p95Ms']):.0f} ms; Redis "
              f"{med(lambda r: r['redis']['cpuMicrosecondsPerPublished']):.1f} µs, "
              f"{med(lambda r: r['redis']['bytesInPerPublished']):.0f} B in and "
              f"{med(lambda r: r['redis']['bytesOutPerPublished']):.0f} B out per published message; "
              f"{med(lambda r: (r['redis']['messagesPublished'] - r['redis']['messagesPublishedIdle']) / r['durationS']):.1f} "
              f"messages/s for {a.speakers} speakers")
    print(f"reports: {out}")


if __name__ == "__main__":
    sys.exit(main())
