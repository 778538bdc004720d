#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recognition accuracy on a development set of real recordings from several
sources, parley against pocketsphinx's own command-line decoder.

The development set is built from Debian packages (nothing is downloaded):

  source      package                        what it is
  librivox    pocketsphinx-testdata          an audiobook reader, 16 kHz
  cards       pocketsphinx-testdata          a man naming playing cards
  commands    pocketsphinx-testdata          "go forward ten meters" and TIDIGITS digits
  alsa        alsa-utils                     a woman naming loudspeaker channels, 48 kHz
  words       ktuberling-data                a man saying single English nouns, 44.1 kHz
  asterisk    asterisk-core-sounds-en(-wav)  a voice actress's telephone prompts, 8 kHz

Every recording is converted once with sox to 16 kHz mono 16-bit WAV, and
the same file goes to every decoder:

  cli    pocketsphinx_continuous -infile FILE (its defaults), one process a file
  cold   parley translate FILE --no-speech, one process a file: a new speaker
         (the default offline decoding)
  live   the same with --decoding live: a new speaker in a live session
  warm   --decoding live on the recording twice, 1 s apart, in one session;
         only the second is scored (the speaker and channel are known)

Prints WER per source and overall, and writes every hypothesis to OUT/.
Usage: tools/eval/stt_devset.py [--bin build/release/src/parley] [--out DIR]
       [--modes cli,cold,live,warm] [--sources librivox,cards,...] [--parley-arg=ARG ...]
"""
import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time

PS_DATA = "/usr/share/pocketsphinx/test/data"
ALSA = "/usr/share/sounds/alsa"
AST_WAV = "/usr/share/asterisk/sounds/en_US_f_Allison"
AST_TXT = "/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
KTUBERLING = "/usr/share/ktuberling/sounds/en"
PACKAGES = ("pocketsphinx pocketsphinx-testdata alsa-utils asterisk-core-sounds-en "
            "asterisk-core-sounds-en-wav ktuberling-data sox libsox-fmt-all")
# ktuberling's file names, where the spoken word is not the name itself.
KTUBERLING_WORDS = {"broccolli": "broccoli", "sphynx": "sphinx", "fallingstar": "falling star",
                    "palmtree": "palm tree", "moonwalker": "moon walker"}

DIGITS = "zero one two three four five six seven eight nine".split()


def normalise(text):
    """Lower case, single digits spelt out, punctuation dropped."""
    text = text.lower().replace("-", " ")
    words = []
    for w in re.findall(r"[a-z0-9']+", text):
        w = w.strip("'")
        if not w:
            continue
        if w.isdigit() and len(w) == 1:
            words.append(DIGITS[int(w)])
        else:
            words.append(w)
    return words


def word_errors(ref, hyp):
    """(substitutions + deletions + insertions) by Levenshtein over words."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


# ---- the development set -------------------------------------------------------------


def tidigits_words(name):
    # TIDIGITS file names spell the digits: z = zero, o = oh, a trailing letter is the take.
    digits = name.split(".")[1].rstrip("ab")
    return " ".join("zero" if c == "z" else "oh" if c == "o" else DIGITS[int(c)] for c in digits)


def recordings():
    """(source, id, path, sox input options, reference) for every recording found."""
    out = []
    lv = f"{PS_DATA}/librivox"
    if os.path.isdir(lv):
        for line in open(f"{lv}/transcription"):
            m = re.match(r"<s>(.*)</s>\s*\((.*)\)", line.strip())
            if m:
                out.append(("librivox", m.group(2), f"{lv}/{m.group(2)}.wav", [], m.group(1)))
    cards = f"{PS_DATA}/cards"
    if os.path.isdir(cards):
        for line in open(f"{cards}/cards.transcription"):
            m = re.match(r"<s>(.*)</s>\s*\((.*)\)", line.strip())
            if m:
                out.append(("cards", m.group(2), f"{cards}/{m.group(2)}.wav", [], m.group(1)))
    raw16 = ["-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1"]
    if os.path.exists(f"{PS_DATA}/goforward.raw"):
        out.append(("commands", "goforward", f"{PS_DATA}/goforward.raw", raw16, "go forward ten meters"))
    tid = f"{PS_DATA}/tidigits"
    if os.path.isdir(tid):
        for f in sorted(os.listdir(tid)):
            if f.endswith(".raw"):
                out.append(("commands", f[:-4], f"{tid}/{f}",
                            ["-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1"],
                            tidigits_words(f[:-4])))
    if os.path.isdir(ALSA):
        for f in sorted(os.listdir(ALSA)):
            if f.endswith(".wav") and f != "Noise.wav":
                out.append(("alsa", f[:-4], f"{ALSA}/{f}", [], f[:-4].replace("_", " ")))
    if os.path.isdir(KTUBERLING):
        for f in sorted(os.listdir(KTUBERLING)):
            word = f[:-4].split("_")[-1]
            if f.endswith(".ogg") and word != "ufo":  # "ufo": letters or a word, unknown
                out.append(("words", f[:-4], f"{KTUBERLING}/{f}", [], KTUBERLING_WORDS.get(word, word)))
    if os.path.isdir(AST_WAV) and os.path.exists(AST_TXT):
        prompts = []
        for line in gzip.open(AST_TXT, "rt", errors="replace"):
            name, sep, text = line.partition(":")
            text = text.strip()
            if not sep or "/" in name or not os.path.exists(f"{AST_WAV}/{name}.wav"):
                continue
            # Whole sentences in plain words only: no bracketed descriptions of tones,
            # numbers beyond single digits, or letters spelt out.
            if re.search(r"[\[\]()#*@&%$]|\d\d|\.\.\.", text) or len(normalise(text)) < 5:
                continue
            prompts.append((name, text))
        prompts.sort()
        for name, text in prompts[::4]:  # every fourth: about 40 prompts of many kinds
            out.append(("asterisk", name, f"{AST_WAV}/{name}.wav", [], text))
    return out


def convert(rec, cache):
    source, rid, path, sox_in, _ = rec
    os.makedirs(f"{cache}/{source}", exist_ok=True)
    dst = f"{cache}/{source}/{rid}.wav"
    if not os.path.exists(dst):
        subprocess.run(["sox", *sox_in, path, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed", dst],
                       check=True)
    return dst


# ---- decoders ------------------------------------------------------------------------


def cli_words(wav):
    r = subprocess.run(["pocketsphinx_continuous", "-infile", wav, "-logfn", "/dev/null"],
                       capture_output=True, text=True, check=True)
    return normalise(r.stdout)


def parley_report(binary, wav, workdir, extra):
    shutil.rmtree(workdir, ignore_errors=True)
    subprocess.run([binary, "translate", wav, "--from", "en", "--to", "es", "--no-speech",
                    "--out", workdir, "--quiet", *extra], check=True, stdout=subprocess.DEVNULL)
    with open(f"{workdir}/report.json") as f:
        return json.load(f)


def parley_words(binary, wav, workdir, extra, from_ms=0):
    rep = parley_report(binary, wav, workdir, extra)
    words = []
    for u in rep["utterances"]:
        if u["start_ms"] >= from_ms:
            words += normalise(u["source"])
    return words


def join_with_gaps(paths, dst, passes):
    """Concatenates paths (all 16 kHz mono) with 1 s of silence after each, `passes` times."""
    args = []
    silence = dst + ".gap.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed", silence,
                    "trim", "0", "1"], check=True)
    for _ in range(passes):
        for p in paths:
            args += [p, silence]
    subprocess.run(["sox", *args, dst], check=True)
    one_pass_s = sum(float(subprocess.run(["soxi", "-D", p], capture_output=True, text=True,
                                          check=True).stdout) + 1.0 for p in paths)
    os.remove(silence)
    return one_pass_s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="build/release/src/parley")
    ap.add_argument("--out", default="test-artifacts/devset")
    ap.add_argument("--modes", default="cli,cold,live,warm")
    ap.add_argument("--sources", default="")
    ap.add_argument("--parley-arg", action="append", default=[],
                    help="extra flag for parley translate (repeatable), e.g. --parley-arg=--hangover-ms=700")
    ap.add_argument("--list", action="store_true", help="print the development set and stop")
    a = ap.parse_args()

    missing = [t for t in ("sox", "pocketsphinx_continuous") if shutil.which(t) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install {PACKAGES}")
    recs = recordings()
    if a.sources:
        keep = set(a.sources.split(","))
        recs = [r for r in recs if r[0] in keep]
    if not recs:
        sys.exit(f"no recordings found: apt-get install {PACKAGES}")
    if a.list:
        for r in recs:
            print(f"{r[0]:10} {r[1]:40} {r[4]}")
        return
    modes = a.modes.split(",")
    cache = f"{a.out}/audio16k"
    sources = sorted({r[0] for r in recs}, key=lambda s: [r[0] for r in recs].index(s))
    totals = {m: [0, 0] for m in modes}  # errors, reference words
    rows = []
    hyps = {}
    started = time.time()
    for s in sources:
        srecs = [r for r in recs if r[0] == s]
        wavs = [convert(r, cache) for r in srecs]
        refs = [normalise(r[4]) for r in srecs]
        n_ref = sum(len(r) for r in refs)
        row = {"source": s, "files": len(srecs), "words": n_ref}
        for m in modes:
            err = 0
            for r, wav, ref in zip(srecs, wavs, refs):
                if m == "cli":
                    hyp = cli_words(wav)
                elif m == "cold":
                    hyp = parley_words(a.bin, wav, f"{a.out}/work/{m}", a.parley_arg)
                elif m == "live":
                    hyp = parley_words(a.bin, wav, f"{a.out}/work/{m}", ["--decoding", "live", *a.parley_arg])
                else:
                    # The recording twice in one session; the second is scored, heard
                    # by a recogniser that already knows this speaker and channel.
                    joined = f"{a.out}/work/twice.wav"
                    one_pass_s = join_with_gaps([wav], joined, 2)
                    hyp = parley_words(a.bin, joined, f"{a.out}/work/{m}", ["--decoding", "live", *a.parley_arg],
                                       from_ms=int(one_pass_s * 1000) - 500)
                err += word_errors(ref, hyp)
                hyps[f"{m}/{s}/{r[1]}"] = " ".join(hyp)
            row[m] = 100.0 * err / max(1, n_ref)
            totals[m][0] += err
            totals[m][1] += n_ref
            print(f"  {s:10} {m:5} {row[m]:5.1f} %  ({time.time() - started:.0f} s)", file=sys.stderr)
        rows.append(row)

    print(f"| source | files | words | " + " | ".join(f"{m} WER" for m in modes) + " |")
    print("|---|---|---|" + "---|" * len(modes))
    for row in rows:
        print(f"| {row['source']} | {row['files']} | {row['words']} | " +
              " | ".join(f"{row[m]:.1f} %" for m in modes) + " |")
    n_files = sum(r["files"] for r in rows)
    n_words = sum(r["words"] for r in rows)
    print(f"| **all** | {n_files} | {n_words} | " +
          " | ".join(f"**{100.0 * totals[m][0] / max(1, totals[m][1]):.1f} %**" for m in modes) + " |")
    os.makedirs(a.out, exist_ok=True)
    with open(f"{a.out}/hypotheses.json", "w") as f:
        json.dump({"rows": rows, "hypotheses": hyps}, f, indent=1)


if __name__ == "__main__":
    main()
