#!/usr/bin/env python3
"""Generates the pack benchmark's evidence tree: about 20,000 files and 3 GB, shaped like a
council's shared drive (mostly incompressible office documents of 100 KB to 5 MB, many small
CSV and text files, a few files of 50 to 200 MB), plus a manifest that matches all of it.

Usage: gen_pack_tree.py DIR [--scale S]   (S=1.0 gives ~3 GB; S=0.1 a quick ~300 MB tree)
Deterministic: the same arguments give the same tree (names, sizes and bytes).
"""
import argparse
import os
import random

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DOCS = ["audit", "plan", "scorecard", "minutes", "policy", "highlight report", "training log"]
TEAMS = ["care leavers", "neglect", "cp chairs", "permanence", "life story", "pwp", "leadership"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    rng = random.Random(20210118)
    root = os.path.join(args.dir, "evidence")
    os.makedirs(root, exist_ok=True)
    # One block of random bytes, sliced at random offsets: incompressible, and far faster
    # to produce than fresh randomness for every file.
    block = os.urandom(8 << 20)

    def write_random(path, size):
        with open(path, "wb") as f:
            left = size
            while left > 0:
                n = min(left, len(block) - 4096)
                off = rng.randrange(0, 4096)
                f.write(block[off:off + n])
                left -= n

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
    big = [int(s * args.scale) for s in (60 << 20, 90 << 20, 140 << 20, 200 << 20)]
    for i, size in enumerate(big):
        p = name(i, "mp4" if i % 2 else "pdf")
        write_random(p, size)
        total += size
        files += 1
    docs = int(1000 * max(args.scale, 0.05))
    for i in range(docs):
        size = rng.randint(100 << 10, 5 << 20)
        ext = ["pdf", "docx", "xlsx", "pptx"][i % 4]
        write_random(name(1000 + i, ext), size)
        total += size
        files += 1
    small = 20000 - files
    for i in range(small):
        ext = "csv" if i % 2 else "txt"
        p = name(100000 + i, ext)
        rows = rng.randint(10, 80)
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
