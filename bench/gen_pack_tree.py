#!/usr/bin/env python3
"""Generates the pack benchmark's evidence tree: about 20,000 files and 3 GB, shaped like a
council's shared drive (mostly incompressible office documents of 100 KB to 5 MB, many small
CSV and text files, a few files of 50 to 200 MB), plus a manifest that matches all of it.

Usage: gen_pack_tree.py DIR [--scale S] [--mix documents|text]
  (S=1.0 gives ~3 GB; S=0.1 a quick ~300 MB tree)

`--mix text` makes the text-heavy variant instead: 4,000 documents of 2.5 GB among 16,000
CSV, Markdown and text files of 200 MB (no large files), where per-file costs weigh more.
Deterministic: the same arguments give the same tree (names, sizes and bytes).

The PDF, docx, xlsx and pptx files are real documents (scripts/docgen.py) that open and pass
evpack's file checks, padded to their size with incompressible bytes (a PDF with an extra
stream, the others with a stored part), so that a pack still stores what it would store
from a real drive. Names and sizes are those of the tree this generator made when those
files held only random bytes, so timings stay comparable with earlier figures; the videos
(mp4) still hold random bytes, as evpack does not check them.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import docgen  # noqa: E402

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DOCS = ["audit", "plan", "scorecard", "minutes", "policy", "highlight report", "training log"]
TEAMS = ["care leavers", "neglect", "cp chairs", "permanence", "life story", "pwp", "leadership"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--mix", choices=["documents", "text"], default="documents")
    args = ap.parse_args()
    rng = random.Random(20210118)
    root = os.path.join(args.dir, "evidence")
    os.makedirs(root, exist_ok=True)
    # One block of random bytes, sliced at random offsets: incompressible, and far faster
    # to produce than fresh randomness for every file. Seeded, so the bytes repeat too.
    block = memoryview(random.Random(8 << 20).randbytes(8 << 20))
    chunk = len(block) - 4096

    def filler(size):
        """The incompressible bytes of a file of `size`: one offset into the block drawn per
        chunk of `size` now (as many draws as the generator has always made for such a file,
        so every later draw, and with it every name and size, stays what it was), and a
        fill for docgen that slices the block at those offsets."""
        offsets = [rng.randrange(0, 4096) for _ in range(-(-size // chunk))]

        def fill(n):
            out = []
            i = 0
            while n > 0:
                k = min(n, chunk)
                off = offsets[i % len(offsets)]
                out.append(block[off:off + k])
                n -= k
                i += 1
            return out
        return fill

    def write_random(path, size):
        with open(path, "wb") as f:
            for c in filler(size)(size):
                f.write(c)

    def write_document(path, size):
        """A real document of exactly `size` bytes, titled after its file name."""
        title = os.path.splitext(os.path.basename(path))[0]
        lines = ["Synthetic evidence for the evpack pack benchmark.",
                 "Padded to the size of a real document with incompressible bytes."]
        rows = [["metric_id", "metric_name", "value", "unit"]] + [
            [f"M{r:03d}", f"Synthetic metric {r}", r * 7 % 100, "%"] for r in range(12)]
        docgen.write(path, lines, title, rows, size=size, fill=filler(size))

    def name(i, ext):
        team = TEAMS[i % len(TEAMS)]
        doc = DOCS[(i // 7) % len(DOCS)]
        year = 2020 + (i // 12) % 2
        month = i % 12 + 1
        folder = os.path.join(root, team, f"{year}-{month:02d}")
        os.makedirs(folder, exist_ok=True)
        style = i % 4
        if style == 0:
            fname = f"{doc} {MONTHS[month - 1]} {year} v{i}.{ext}"
        elif style == 1:
            fname = f"{year}-{month:02d}-{(i % 28) + 1:02d} {doc} {i}.{ext}"
        elif style == 2:
            fname = f"{doc.title()} {(i % 28) + 1:02d}.{month:02d}.{year} ({i}).{ext}"
        else:
            fname = f"{doc}_{i}.{ext}"
        return os.path.join(folder, fname)

    total = 0
    files = 0
    text = args.mix == "text"
    big = [] if text else [int(s * args.scale) for s in (60 << 20, 90 << 20, 140 << 20, 200 << 20)]
    for i, size in enumerate(big):
        p = name(i, "mp4" if i % 2 else "pdf")
        if p.endswith(".pdf"):
            write_document(p, size)
        else:
            write_random(p, size)
        total += size
        files += 1
    docs = int((4000 if text else 1000) * max(args.scale, 0.05))
    for i in range(docs):
        size = rng.randint(150 << 10, 1100 << 10) if text else rng.randint(100 << 10, 5 << 20)
        ext = ["pdf", "docx", "xlsx", "pptx"][i % 4]
        write_document(name(1000 + i, ext), size)
        total += size
        files += 1
    small = 20000 - files
    for i in range(small):
        ext = ["csv", "md", "txt"][i % 3] if text else ("csv" if i % 2 else "txt")
        p = name(100000 + i, ext)
        rows = rng.randint(80, 250) if text else rng.randint(10, 80)
        with open(p, "w") as f:
            f.write("metric_id,metric_name,domain,period_end,value,unit,target,rag\n")
            for r in range(rows):
                f.write(f"M{r:03d},Synthetic metric {r},care leavers,2020-{(r % 12) + 1:02d}-28,"
                        f"{rng.randint(0, 100)},%,{rng.randint(50, 100)},amber\n")
        total += os.path.getsize(p)
        files += 1

    with open(os.path.join(args.dir, "manifest.toml"), "w") as f:
        f.write('[visit]\nname = "Benchmark visit"\nauthority = "Example Council"\n'
                'date = 2021-01-18\n\n[[area]]\nid = "B1"\nkind = "other"\n'
                'title = "Everything"\n\n[[area.requirement]]\nid = "B1.1"\n'
                'title = "All evidence"\nevidence = "other"\npaths = ["**"]\n')
    print(f"{files} files, {total / 1e9:.2f} GB in {root}")


if __name__ == "__main__":
    main()
