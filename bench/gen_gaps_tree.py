#!/usr/bin/env python3
"""Generates the gap-analysis benchmark: an evidence tree of small files named the way
councils name them (every date form evpack reads, folder dates, undated files, litter),
spread over many folders, and a manifest of 200 requirements over it.

Usage: gen_gaps_tree.py DIR [--files N] [--requirements R]
Writes DIR/evidence/ and DIR/manifest.toml. Deterministic: the same arguments give the
same tree (names and bytes).

Files are small. The PDF, docx, xlsx and pptx files are real, minimal documents
(scripts/docgen.py, 1 to 10 KB) titled after their names, since `gaps` checks that every
file a requirement matches opens; every other file holds up to 200 bytes of text, as
before. A file drawn with 0 bytes stays empty, whatever its type (about one in 200): the
0-byte placeholders of a real drive.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import docgen  # noqa: E402

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]

# (folder, document name, manifest glob keyword)
TOPICS = [
    ("audits/pathway plans", "Pathway Plan audit", "pathway*plan"),
    ("audits/neglect", "Neglect thematic audit", "neglect"),
    ("audits/cp plans", "CP plans review", "cp*plan"),
    ("audits/permanence", "Permanence audit", "permanence"),
    ("audits/placed with parents", "PWP audit", "pwp"),
    ("audits/cp medicals", "Strategy discussion dip sample", "strategy*discussion"),
    ("audits/supervision", "Supervision audit", "supervision"),
    ("audits/life story", "Life story audit", "life*story"),
    ("scorecards", "Care leavers scorecard", "care*leaver"),
    ("scorecards", "Children in care scorecard", "children*in*care"),
    ("scorecards", "Neglect and protection scorecard", "protection"),
    ("scorecards", "Workforce scorecard", "workforce"),
    ("minutes/legal gateway", "Legal gateway minutes", "legal*gateway"),
    ("minutes/permanence panel", "Permanence tracking panel", "tracking*panel"),
    ("minutes/high risk panel", "High risk panel notes", "high*risk"),
    ("minutes/improvement partnership", "Improvement Partnership minutes", "improvement*partnership"),
    ("minutes/locality panels", "Locality panel PWP approvals", "locality*panel"),
    ("minutes/scrutiny", "Scrutiny Committee minutes", "scrutiny"),
    ("minutes/corporate parenting", "Corporate Parenting Members Group", "corporate*parenting"),
    ("policies", "Local offer", "local*offer"),
    ("policies", "Neglect strategy", "neglect*strategy"),
    ("policies", "Escalation protocol", "escalation*protocol"),
    ("policies", "Permanence practice framework", "practice*framework"),
    ("policies", "Quality Assurance Framework", "quality*assurance"),
    ("training", "Complex risk workshop attendance", "complex*risk"),
    ("training", "ASYE completion", "asye"),
    ("training", "Life story training log", "training*log"),
    ("qa/moderation", "Moderation summary", "moderation"),
    ("qa/practice evaluations", "Practice evaluation summary", "practice*evaluation"),
    ("qa/action tracker", "Audit action tracker", "action*tracker"),
    ("workforce", "SLT structure and vacancy log", "vacancy*log"),
    ("workforce", "Recruitment and retention strategy", "retention"),
    ("highlight", "Highlight report", "highlight"),
    ("improvement plan", "Improvement plan matrix", "matrix"),
    ("reports", "Rapid review learning summary", "rapid*review"),
    ("reports", "Health offer report", "health*offer"),
    ("care leavers", "Multi-agency risk planning", "risk*planning"),
    ("care leavers", "Health passport action plan", "health*passport"),
    ("partners in practice", "Partnership review notes", "partnership*review"),
    ("self-evaluation", "Self evaluation", "self*eval"),
]
TEAMS = ["north", "south", "east", "west", "exeter", "plymouth fringe", "torridge",
         "mid devon", "teignbridge", "east devon", "south hams", "west devon"]
EXTS = [".docx", ".docx", ".xlsx", ".pdf", ".csv", ".md", ".msg", ".pptx"]
LITTER = ["Thumbs.db", "desktop.ini", ".DS_Store"]


def written(rng, y, m, d):
    """The date in one of the forms people use, or None for an undated name."""
    mon = MONTHS[m - 1]
    form = rng.randrange(12)
    return [
        f"{y}-{m:02}-{d:02}", f"{y}_{m:02}_{d:02}", f"{y}{m:02}{d:02}", f"{d:02}.{m:02}.{y}",
        f"{d:02}-{m:02}-{y}", f"{y}-{m:02}", f"{mon[:3]} {y}", f"{mon} {y}", f"{mon[:3]}-{y}",
        f"{d} {mon} {y}", f"{d}th {mon[:3]} {y}", None,
    ][form]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--requirements", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(20210118)
    root = os.path.join(args.dir, "evidence")
    os.makedirs(root, exist_ok=True)

    made = set()
    folders = set()
    n = 0
    while n < args.files:
        folder, doc, _ = rng.choice(TOPICS)
        team = rng.choice(TEAMS)
        y = rng.choice([2018, 2019, 2019, 2020, 2020, 2020, 2020, 2021])
        m = rng.randrange(1, 13)
        d = rng.randrange(1, 29)
        shape = rng.randrange(4)
        if shape == 0:
            # Month folders, undated name: the folder gives the date.
            rel = f"{folder}/{team}/{y}/{y}-{m:02}/{doc} {team} v{rng.randrange(1, 9)}{rng.choice(EXTS)}"
        else:
            date = written(rng, y, m, d)
            label = f"{doc} {team}" if date is None else f"{doc} {team} {date}"
            if rng.randrange(10) == 0:
                label += f" rev {rng.randrange(2, 6)}"
            rel = f"{folder}/{team}/{y}/{label}{rng.choice(EXTS)}"
        if rng.randrange(200) == 0:
            rel = os.path.join(os.path.dirname(rel), rng.choice(LITTER))
        if rel in made:
            continue
        made.add(rel)
        path = os.path.join(root, rel)
        parent = os.path.dirname(path)
        if parent not in folders:
            os.makedirs(parent, exist_ok=True)
            folders.add(parent)
        length = rng.randrange(0, 200)
        if length and path.endswith(docgen.EXTENSIONS):
            title = os.path.splitext(os.path.basename(path))[0]
            docgen.write(path, ["Synthetic evidence for the evpack gap-analysis benchmark."],
                         title)
        else:
            with open(path, "w") as f:
                f.write("x" * length)
        n += 1

    lines = [
        "# Generated by bench/gen_gaps_tree.py for the gap-analysis benchmark.",
        "[visit]",
        'name = "Ofsted focused visit"',
        'authority = "Benchmark County Council"',
        "date = 2021-01-18",
        "lookback_months = 6",
    ]
    per_area = 5
    for i in range(args.requirements):
        folder, doc, kw = TOPICS[i % len(TOPICS)]
        if i % per_area == 0:
            a = i // per_area + 1
            lines += ["", "[[area]]", f'id = "A{a}"', 'kind = "ofsted-priority"',
                      f'title = "Area {a}"']
        team = TEAMS[(i // len(TOPICS)) % len(TEAMS)]
        paths = [f"{folder}/{team}/**/*{kw}*"]
        if i % 3 == 0:
            paths.append(f"{folder}/**/*{kw}*{team.split()[0]}*")
        if i % 7 == 0:
            paths.append(f"**/*{kw}*")
        lines += ["", "[[area.requirement]]", f'id = "R{i + 1}"', f'title = "{doc} ({team})"',
                  'evidence = "other"', "paths = [" + ", ".join(f'"{p}"' for p in paths) + "]"]
        cadence = ["none", "monthly", "quarterly"][i % 3]
        lines.append(f'cadence = "{cadence}"')
        if i % 4 == 0:
            lines.append(f"max_age_days = {[35, 95, 365][i % 3]}")
        if i % 5 == 0:
            lines.append(f"min_files = {1 + i % 4}")
        if i % 9 == 0:
            lines.append("required = false")
        lines.append(f'owner = "Head of Service, {team.title()}"')
    with open(os.path.join(args.dir, "manifest.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{args.dir}: {n} files in {len(folders)} folders, {args.requirements} requirements")


if __name__ == "__main__":
    main()
