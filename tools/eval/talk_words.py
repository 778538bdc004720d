#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The talk's own words: recognition accuracy with a session vocabulary and
in script mode, on the real recordings of the development set
(tools/eval/stt_devset.py; Debian packages only, nothing downloaded).

Vocabulary (--part vocabulary): WER of `parley translate` (offline
decoding, a new speaker per file) per source,
  none      without a vocabulary
  related   with a related text that does not contain the file's sentence:
            the other passages of the same book (librivox), the other
            prompts of the same telephone system (asterisk), the toy's
            other words (words), and, written here, a card game's terms
            (cards), a robot's commands (commands) and a text on surround
            loudspeakers (alsa)
  names     with names only (the novel's characters; sources without
            names have none)

Script (--part script): the recordings of a source read one after the
other, 1 s apart, as one talk, with their texts as the script:
  plain     the same talk without a script, for comparison
  exact     read exactly as written
  skipped   every third sentence of the script is not read
  ad-libs   passages that are not in the script are read between its
            sentences (same voice: the source's other recordings)
Reports the WER of what is shown against what was said, the share of
finals shown from the script, and, for ad-libs, finals shown from the
script whose speech was all ad-lib (invented script text: must be 0).

Usage: tools/eval/talk_words.py [--bin build/release/src/parley]
       [--part vocabulary,script] [--sources librivox,cards,...] [--out DIR]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stt_devset as dev  # noqa: E402

# What an organiser might paste for each source: related text that never
# contains a test sentence (leave-one-out texts are built from the data).
CARDS_VOCABULARY = """Playing cards. A standard deck has fifty two cards in four suits.
Suits: hearts, diamonds, clubs, spades.
Ranks: ace, two, three, four, five, six, seven, eight, nine, ten, jack, queen, king.
A card is called by its rank and suit, such as the ace of spades or the two of diamonds.
Players draw a card, discard a card, or pass. A pair, three of a kind, a straight, a flush.
"""
COMMANDS_VOCABULARY = """Robot commands. Go forward, go back, turn left, turn right, stop.
Distances: one, two, three, five, ten or twenty meters. Turn ninety degrees.
Dial the number: one two three four five six seven eight nine zero oh.
"""
ALSA_VOCABULARY = """Setting up surround sound. A seven point one system has a front
left and a front right speaker, a center channel, two side speakers, two rear
speakers and a subwoofer for the low frequency effects. Test each channel in turn
and check that the sound comes from the speaker that is named.
"""
NAMES = {
    "librivox": "Dashwood\nHenry Dashwood\nJohn Dashwood\nFanny\nElinor\nMarianne\nMargaret\n"
                "Edward Ferrars\nWilloughby\nColonel Brandon\nMrs. Jennings\nSir John Middleton\n"
                "Lucy Steele\nNorland\nBarton\n",
}
# The LibriVox passages as Jane Austen wrote them (the test data's
# transcripts are lower case, without punctuation), for script mode.
AUSTEN = {
    "sense_and_sensibility_01_austen_64kb-0870":
        "And Mr. John Dashwood had then leisure to consider how much there might be prudently "
        "in his power to do for them.",
    "sense_and_sensibility_01_austen_64kb-0880": "He was not an ill-disposed young man,",
    "sense_and_sensibility_01_austen_64kb-0890":
        "unless to be rather cold-hearted and rather selfish is to be ill-disposed:",
    "sense_and_sensibility_01_austen_64kb-0920":
        "Had he married a more amiable woman, he might have been made still more respectable "
        "than he was;",
    "sense_and_sensibility_01_austen_64kb-0930": "he might even have been made amiable himself;",
}


def norm(text):
    words = dev.normalise(text)
    return ["mister" if w == "mr" else "missus" if w == "mrs" else w for w in words]


def asterisk_all_prompts():
    """Every prompt's text, name → text."""
    import gzip
    out = {}
    for line in gzip.open(dev.AST_TXT, "rt", errors="replace"):
        name, sep, text = line.partition(":")
        if sep and "/" not in name:
            out[name] = text.strip()
    return out


def related_text(source, rec, recs):
    """Related text for one test file: never its own sentence."""
    if source in ("librivox", "words"):
        return "\n".join(r[4] for r in recs if r[0] == source and r[1] != rec[1])
    if source == "asterisk":
        tests = {r[1] for r in recs if r[0] == "asterisk"}
        return "\n".join(t for n, t in asterisk_all_prompts().items() if n not in tests)
    return {"cards": CARDS_VOCABULARY, "commands": COMMANDS_VOCABULARY, "alsa": ALSA_VOCABULARY}.get(source, "")


def run(binary, wav, workdir, extra):
    shutil.rmtree(workdir, ignore_errors=True)
    t0 = time.time()
    subprocess.run([binary, "translate", wav, "--from", "en", "--to", "es", "--no-speech",
                    "--out", workdir, "--quiet", *extra], check=True, stdout=subprocess.DEVNULL)
    with open(f"{workdir}/report.json") as f:
        rep = json.load(f)
    rep["wall_s"] = time.time() - t0
    return rep


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def part_vocabulary(a, recs, cache):
    sources = [s for s in dict.fromkeys(r[0] for r in recs)]
    print("| source | files | words | none | related | names |")
    print("|---|---|---|---|---|---|")
    totals = {"none": [0, 0], "related": [0, 0], "names": [0, 0]}
    for s in sources:
        srecs = [r for r in recs if r[0] == s]
        row = {}
        for cond in ("none", "related", "names"):
            if cond == "names" and s not in NAMES:
                row[cond] = None
                continue
            err = n = 0
            for r in srecs:
                wav = dev.convert(r, cache)
                extra = []
                if cond != "none":
                    text = related_text(s, r, recs) if cond == "related" else NAMES[s]
                    extra = ["--vocabulary", write(f"{a.out}/vocabulary.txt", text)]
                rep = run(a.bin, wav, f"{a.out}/work", extra)
                hyp = [w for u in rep["utterances"] for w in norm(u["source"])]
                ref = norm(r[4])
                err += dev.word_errors(ref, hyp)
                n += len(ref)
            row[cond] = 100.0 * err / max(1, n)
            totals[cond][0] += err
            totals[cond][1] += n
            print(f"  {s:10} {cond:8} {row[cond]:5.1f} %", file=sys.stderr)
        n_words = sum(len(norm(r[4])) for r in srecs)
        cells = [f"{row[c]:.1f} %" if row[c] is not None else "—" for c in ("none", "related", "names")]
        print(f"| {s} | {len(srecs)} | {n_words} | " + " | ".join(cells) + " |", flush=True)
    cells = [f"{100.0 * e / max(1, n):.1f} %" for e, n in totals.values()]
    print("| **all** (names: librivox only) | | | " + " | ".join(f"**{c}**" for c in cells) + " |")


def talk(a, name, parts, script_text, cache):
    """Joins recordings (paths) into one talk; returns the talk's path and
    each part's (start_s, end_s)."""
    wav = f"{a.out}/talk-{name}.wav"
    dev.join_with_gaps(parts, wav, 1)
    spans, t = [], 0.0
    for p in parts:
        d = float(subprocess.run(["soxi", "-D", p], capture_output=True, text=True, check=True).stdout)
        spans.append((t, t + d))
        t += d + 1.0
    return wav, spans


def script_case(a, name, recs, read, script_recs, adlib, cache, texts):
    """Reads `read` (records, in order) against a script of `script_recs`;
    `adlib` marks the records that are not in the script."""
    parts = [dev.convert(r, cache) for r in read]
    wav, spans = talk(a, name, parts, None, cache)
    script = " ".join(texts[r[1]] for r in script_recs)
    extra = ["--script", write(f"{a.out}/script.txt", script)] if name != "plain" else []
    rep = run(a.bin, wav, f"{a.out}/work", extra)
    shown = [w for u in rep["utterances"] for w in norm(u["source"])]
    ref = [w for r in read for w in norm(r[4])]
    errors = dev.word_errors(ref, shown)
    finals = rep["utterances"]
    n_script = sum(1 for u in finals if u.get("from_script"))
    invented = 0
    for u in finals:
        if not u.get("from_script"):
            continue
        # A final over ad-lib speech only (no scripted part overlaps it) that
        # the script made less true than the recogniser's own words were:
        # script text shown for what was not in the script.
        def overlaps(i):
            s, e = spans[i]
            return min(e, u["end_ms"] / 1000) - max(s, u["start_ms"] / 1000) > 0.2
        if any(not adlib[i] and overlaps(i) for i in range(len(spans))):
            continue
        said = [w for i in range(len(spans)) if adlib[i] and overlaps(i) for w in norm(read[i][4])]
        if dev.word_errors(said, norm(u["source"])) > dev.word_errors(said, norm(u.get("recognised", ""))):
            invented += 1
    stt_s = sum(u["timings_ms"]["stt"] for u in finals) / 1000
    return {"wer": 100.0 * errors / max(1, len(ref)), "words": len(ref), "finals": len(finals),
            "from_script": n_script, "invented": invented, "stt_s": stt_s}


def part_script(a, recs, cache):
    print("| source | case | words read | finals | shown from the script | WER shown | invented script finals |")
    print("|---|---|---|---|---|---|---|")
    for s in ("librivox", "asterisk"):
        srecs = [r for r in recs if r[0] == s]
        if not srecs:
            continue
        if s == "librivox":
            texts = {r[1]: AUSTEN.get(r[1], r[4]) for r in srecs}
            in_script = srecs[:3]
            others = srecs[3:]
        else:
            texts = {r[1]: r[4] for r in srecs}
            in_script = srecs[:30]
            others = srecs[30:]
        cases = []
        cases.append(("plain", srecs, srecs, [False] * len(srecs)))
        cases.append(("exact", srecs, srecs, [False] * len(srecs)))
        skipped = [r for i, r in enumerate(srecs) if i % 3 != 2]
        cases.append(("skipped", skipped, srecs, [False] * len(skipped)))
        # Ad-libs: an unscripted passage after every third scripted one.
        read, adlib, extra = [], [], list(others)
        for i, r in enumerate(in_script):
            read.append(r)
            adlib.append(False)
            if i % 3 == 2 and extra:
                read.append(extra.pop(0))
                adlib.append(True)
        cases.append(("ad-libs", read, in_script, adlib))
        for name, read_recs, script_recs, adlib_flags in cases:
            if name not in a.cases.split(","):
                continue
            res = script_case(a, name, recs, read_recs, script_recs, adlib_flags, cache, texts)
            share = f"{res['from_script']}/{res['finals']}" if name != "plain" else "—"
            inv = str(res["invented"]) if name == "ad-libs" else "—"
            print(f"| {s} | {name} | {res['words']} | {res['finals']} | {share} | {res['wer']:.1f} % | {inv} |",
                  flush=True)
            print(f"  {s} {name}: stt {res['stt_s']:.1f} s", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="build/release/src/parley")
    ap.add_argument("--out", default="test-artifacts/talk-words")
    ap.add_argument("--part", default="vocabulary,script")
    ap.add_argument("--sources", default="")
    ap.add_argument("--cases", default="plain,exact,skipped,ad-libs", help="script cases to run")
    a = ap.parse_args()
    if shutil.which("sox") is None:
        sys.exit(f"missing sox: apt-get install {dev.PACKAGES}")
    recs = dev.recordings()
    if a.sources:
        keep = set(a.sources.split(","))
        recs = [r for r in recs if r[0] in keep]
    if not recs:
        sys.exit(f"no recordings found: apt-get install {dev.PACKAGES}")
    os.makedirs(a.out, exist_ok=True)
    cache = f"{a.out}/audio16k"
    parts = a.part.split(",")
    if "vocabulary" in parts:
        part_vocabulary(a, recs, cache)
    if "script" in parts:
        part_script(a, recs, cache)


if __name__ == "__main__":
    main()
