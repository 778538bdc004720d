#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Soak: a live session for a long time with a speaker talking and listeners
coming and going, sampling the server's memory (the hardening issue's "RSS
stays bounded" check; results in docs/reliability.md).

One speaker streams the LibriVox recordings of pocketsphinx-testdata in real
time, looped; LISTENERS listeners (Spanish and English) read everything;
every CHURN seconds a third of them leave and as many new ones join with
since=0, so every join replays history. Every SAMPLE seconds it prints the
server's RSS, threads, open files and WebSocket connections. Bounded: it
stops after DURATION seconds and stops the server.

Usage: tests/bench/soak.py --bin build/release/src/parley [--duration 3600]
       [--listeners 200] [--churn 10] [--sample 30] [--server-arg=--FLAG=VALUE ...]
(--server-arg=--history-in-memory=200 reaches the history's bound within
minutes, so the soak shows where memory levels off.)
Only the Python standard library; traffic stays on 127.0.0.1.
"""
import argparse, glob, json, random, selectors, struct, sys, threading, time, wave

from benchlib import Server, Ws, create_session, http, join_listener

def sample(server):
    m = server.stats()
    m["ws"] = server.metric("parley_ws_connections")
    return m

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", type=int, default=3600)
    ap.add_argument("--listeners", type=int, default=200)
    ap.add_argument("--churn", type=float, default=10)
    ap.add_argument("--sample", type=float, default=30)
    ap.add_argument("--port", type=int, default=18777)
    ap.add_argument("--server-arg", action="append", default=[], help="extra flag for parley serve (repeatable)")
    a = ap.parse_args()
    wavs = sorted(glob.glob("/usr/share/pocketsphinx/test/data/librivox/*.wav"))
    if not wavs: sys.exit("install pocketsphinx-testdata")
    pcm = b""
    for w in wavs:
        with wave.open(w) as f:
            assert f.getframerate() == 16000 and f.getnchannels() == 1
            pcm += f.readframes(f.getnframes()) + b"\0\0" * 16000
    with Server(a.bin, a.port, "--max-connections-per-address", "0", "--rate-join-per-min", "0", *a.server_arg) as server:
        s = create_session(a.port, "Soak", ["es"])
        code, token = s["code"], s["speakerToken"]
        speaker = Ws(a.port)
        speaker.text({"type": "join", "role": "speaker", "code": code, "token": token, "sampleRate": 16000})
        http(a.port, "POST", f"/api/sessions/{code}/start", {}, token)
        stop = threading.Event()
        def talk():
            seq, off, frame = 0, 0, 640
            nxt = time.monotonic()
            while not stop.is_set():
                seq += 1
                chunk = pcm[off:off + frame] if off + frame <= len(pcm) else pcm[:frame]
                off = off + frame if off + frame <= len(pcm) else frame
                speaker.send(struct.pack("<I", seq) + chunk, 2)
                nxt += 0.02
                time.sleep(max(0, nxt - time.monotonic()))
        threading.Thread(target=talk, daemon=True).start()
        sel = selectors.DefaultSelector()
        sel.register(speaker.s, selectors.EVENT_READ, speaker)
        listeners, joined, left = [], 0, 0
        def join():
            nonlocal joined
            w = Ws(a.port)
            join_listener(w, code, random.choice(["es", "en"]), 0, random.choice(["full", "none"]))
            sel.register(w.s, selectors.EVENT_READ, w)
            listeners.append(w)
            joined += 1
        for _ in range(a.listeners): join()
        start = time.monotonic()
        next_churn, next_sample = start + a.churn, start
        samples = []
        print("| t (s) | RSS (MB) | threads | fds | WebSocket connections | listeners joined | left |")
        print("|---|---|---|---|---|---|---|")
        while time.monotonic() - start < a.duration:
            for key, _ in sel.select(timeout=0.2):
                try:
                    if not key.fileobj.recv(1 << 16): raise OSError
                except BlockingIOError:
                    pass
                except OSError:
                    sel.unregister(key.fileobj)
            now = time.monotonic()
            if now >= next_churn:
                next_churn += a.churn
                for w in random.sample(listeners, len(listeners) // 3):
                    listeners.remove(w)
                    try: sel.unregister(w.s)
                    except (KeyError, ValueError): pass
                    w.close()
                    left += 1
                while len(listeners) < a.listeners: join()
            if now >= next_sample:
                next_sample += a.sample
                m = sample(server)
                m["t"] = round(now - start)
                samples.append(m)
                print(f"| {m['t']} | {m['rss_mb']:.1f} | {m['threads']} | {m['fds']} | {m['ws']} | {joined} | {left} |", flush=True)
        stop.set()
        warm = [m["rss_mb"] for m in samples if m["t"] >= min(300, a.duration / 4)]
        if warm:
            print(f"\nRSS after warm-up: min {min(warm):.1f} MB, max {max(warm):.1f} MB, last {warm[-1]:.1f} MB; "
                  f"{joined} joins, {left} leaves over {a.duration} s")
        _, body, _ = http(a.port, "GET", f"/api/sessions/{code}/history?limit=1")
        print("history answers:", json.loads(body)["more"] is not None)

if __name__ == "__main__":
    main()
