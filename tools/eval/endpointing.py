#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Endpointing benchmark on real speech in real noise: the fixed hangover
against the adaptive endpointer, on the same recordings, in one run.

Speech: the development set's sentence sources (tools/eval/stt_devset.py):
LibriVox (an audiobook reader), cards (a man naming playing cards), alsa (a
woman naming loudspeaker channels) and asterisk (a voice actress's telephone
prompts), one talk per speaker. Noise: real recordings from Debian packages,
looped under the talk at each SNR:

  crowd   etw-data      a football stadium's crowd (crowd01-09.wav joined)
  street  btanks-data   a city street ambience (ambient/city.ogg)
  fan     crrcsim-data  a ducted fan running (sounds/fan.wav)

Runs parley_endpoint_bench (tests/bench/endpoint_bench.cpp), which prints a
table: latency from the true end of each sentence to its final caption and
first translated audio, splits, merges, forced cuts and WER.

Usage: tools/eval/endpointing.py [--bench build/release/tests/bench/parley_endpoint_bench]
       [--out DIR] [--sources librivox,cards,alsa,asterisk] [--noises crowd,street,fan]
       [bench flags, e.g. --snr 10,0 --pause-ms 600-1500 --write-wavs DIR]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stt_devset  # noqa: E402

NOISE_PACKAGES = "etw-data btanks-data crrcsim-data sox libsox-fmt-all"
NOISES = {
    "crowd": [f"/usr/share/games/etw/crowd/crowd0{i}.wav" for i in range(1, 10)],
    "street": ["/usr/share/games/btanks/data/sounds/ambient/city.ogg"],
    "fan": ["/usr/share/games/crrcsim/sounds/fan.wav"],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="build/release/tests/bench/parley_endpoint_bench")
    ap.add_argument("--out", default="test-artifacts/endpointing")
    ap.add_argument("--sources", default="librivox,cards,alsa,asterisk")
    ap.add_argument("--noises", default="crowd,street,fan")
    a, rest = ap.parse_known_args()
    if shutil.which("sox") is None:
        sys.exit(f"sox is missing: apt-get install {NOISE_PACKAGES}")
    keep = a.sources.split(",")
    # One sentence a recording: a cut between two sentences of one telephone
    # prompt ("... is logged on. Please enter ...") is not a split.
    recs = [r for r in stt_devset.recordings()
            if r[0] in keep and not re.search(r"[.?!;:]\s+\S", r[4].strip())]
    recs.sort(key=lambda r: keep.index(r[0]))
    if not recs:
        sys.exit(f"no recordings found: apt-get install {stt_devset.PACKAGES}")
    os.makedirs(a.out, exist_ok=True)
    cache = f"{a.out}/audio16k"
    with open(f"{a.out}/speech.list", "w") as f:
        for r in recs:
            words = " ".join(stt_devset.normalise(r[4]))
            f.write(f"{r[0]}\t{stt_devset.convert(r, cache)}\t{words}\n")
    args = [a.bench, "--list", f"{a.out}/speech.list"]
    for name in [n for n in a.noises.split(",") if n and n != "none"]:
        files = [p for p in NOISES[name] if os.path.exists(p)]
        if not files:
            sys.exit(f"noise '{name}' is missing: apt-get install {NOISE_PACKAGES}")
        dst = f"{a.out}/noise-{name}.wav"
        if not os.path.exists(dst):
            subprocess.run(["sox", *files, "-r", "16000", "-c", "1", "-b", "16", dst], check=True)
        args += ["--noise", f"{name}={dst}"]
    sys.exit(subprocess.run(args + rest).returncode)


if __name__ == "__main__":
    main()
