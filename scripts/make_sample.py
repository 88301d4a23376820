#!/usr/bin/env python3
"""Makes the documents of the shipped sample evidence folder (`evidence/`): real PDF, Word
and Excel files carrying synthetic text, and a few unusable files put there on purpose.

Usage: scripts/make_sample.py [--check] [EVIDENCE_DIR]   (default: evidence/ beside scripts/)

Writes a file only when its bytes differ from what it should be, and prints each one it
writes; a second run writes nothing. `--check` writes nothing and exits 1 if a file would
change. The bytes depend only on this script and scripts/docgen.py (see there), so every
machine makes the same sample. Every other file of the sample (CSV, Markdown, text) is
written by hand and left alone, as is the Office lock file
`scorecards/2020-10/~$Scorecard Oct 2020.xlsx`: the scan ignores `~$` names, and a real lock
file is not a workbook either. This script lives outside `evidence/` because everything in
there is scanned.

The documents keep the names and folders they had as placeholders, so every date, match and
status in manifests/README.md stays as it was.

Unusable on purpose. Each sits next to a good file that serves the same requirements for
the same period and is dated no later than it, so no requirement's status changes whether
or not a file check rejects it; they show what such checks must catch on a real drive:

- `scorecards/2020-12/Scorecard Dec 2020.xlsx`: 0 bytes, a workbook created and never
  saved. Empty. Matches P8.5 and C3.2 (`scorecards/**/scorecard*`); December is covered by
  `Scorecard Dec 2020.csv`.
- `highlight/2020-11 highlight report.pdf`: the HTML sign-in page a browser saved when the
  document link needed a login. Wrong type (HTML, not PDF). Matches P8.2
  (`highlight/**/*highlight*`); November is covered by `2020-11 highlight report.md`.
- `policies/neglect/Copy of Graded Care Profile guidance October 2020.pdf`: the first half
  of the real guidance PDF, an interrupted copy. Corrupt (no `startxref`, no `%%EOF`).
  Matches P2.4 (`policies/**/*graded*care*`), beside the whole file of the same date.
- `minutes/improvement partnership/Improvement Partnership minutes 15.12.2020 (1).docx`:
  a second download of the minutes, byte for byte the same. A valid document: the file
  checks pass it; it shows a duplicate that must not count twice. Matches P8.3
  (`minutes/**/*improvement*partnership*`).
- `scorecards/2020-11/Children in care scorecard Nov 2020-LAPTOP-4G7H2K.xlsx`: a
  OneDrive conflict copy (the device name appended), holding the November figures as a
  workbook. A valid document, and still a copy nobody meant to keep. Matches P5.2, P6.2
  and P7.2 (`scorecards/**/*children*in*care*`), beside `Children in care scorecard Nov
  2020.csv`.
- `scorecards/2020-10/Scorecard Oct 2020.xlsx - Shortcut.lnk`: a Windows shortcut to a
  workbook outside the evidence folder (a header and a relative path; no times). Not
  evidence: the document is not here. Matches P8.5 and C3.2 (`scorecards/**/scorecard*`);
  October is covered by `Scorecard Oct 2020.csv`.
- `self-evaluation/Self evaluation December 2020 draft.docx`: a Word document encrypted
  with a password (`sample-only`), as Word saves it: an OLE compound file holding
  `EncryptionInfo` and `EncryptedPackage`. Password-protected. Matches P8.6
  (`self-evaluation/**/*self*eval*`), beside `Self evaluation December 2020.docx`.
  Encryption draws a random salt, so this one file is made once, with the PyPI package
  `msoffcrypto-tool` (`pip install msoffcrypto-tool`), committed, and left alone while it
  exists; nothing else here needs more than the standard library. (msoffcrypto-tool 6.1
  writes a package under 4 KiB into a compound file it cannot read back, so the draft
  carries enough text to be larger, and the script decrypts what it made before keeping it.)
"""
import argparse
import csv
import io
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docgen  # noqa: E402

SAMPLE_NOTE = ("Synthetic sample for evpack. No personal data: job titles and aggregate "
               "figures only.")

# The documents, by path, with the text of the placeholders they replace. The title is the
# file name without its extension, as a council's document usually opens with.
DOCUMENTS = {
    "Staff rota draft.docx": "Placeholder for a staff rota draft (Word document).",
    "audits/pathway plans/PP audit 15.10.2020.docx":
        "Placeholder for the Pathway Plan audit, first round (Word document).",
    "downloads/ILACS inspection report Jan 2020.pdf":
        "Placeholder for the published inspection report (PDF).",
    "highlight/2020-10 highlight report.pdf":
        "Placeholder for the October 2020 highlight report (PDF).",
    "minutes/improvement partnership/Improvement Partnership minutes 15.12.2020.docx":
        "Placeholder for Improvement Partnership minutes (Word document).",
    "minutes/improvement partnership/Improvement Partnership minutes 28.07.2020.docx":
        "Placeholder for Improvement Partnership minutes (Word document).",
    "partners in practice/PiP proposal to DfE 30.06.2020.docx":
        "Placeholder for the Partners in Practice proposal to the DfE (Word document).",
    "policies/neglect/Graded Care Profile guidance October 2020.pdf":
        "Placeholder for the Graded Care Profile practice guidance (PDF).",
    "policies/quality assurance/Quality Assurance Framework July 2020.docx":
        "Placeholder for the revised Quality Assurance Framework (Word document).",
    "self-evaluation/Self evaluation December 2020.docx":
        "Placeholder for the self-evaluation (Word document).",
    "templates/Pathway Plan template Oct-2020.docx":
        "Placeholder for the revised Pathway Plan template (Word document).",
    "workforce/Recruitment and retention strategy Nov 2019.docx":
        "Placeholder for the 2019 recruitment and retention strategy (Word document).",
}

# The password-protected draft's text (figures from the December 2020 scorecards).
DRAFT = [
    "Draft for the Improvement Board; not for circulation until the Chief Officer for "
    "Children's Services has signed it off.",
    "1. Context. Children's services were judged inadequate at the ILACS inspection in "
    "January 2020. This self-evaluation sets out what has changed for children since, "
    "against the eight priority areas for improvement and the Commissioner's "
    "recommendations, and what we know is not yet good enough.",
    "2. Care leavers. 89% of care leavers are in suitable accommodation (target 90%) and "
    "94% are in touch. Pathway plans in date have risen to 84.5% against a target of 90%. "
    "Health passports issued reached 68%; the health passport action plan sets out how we "
    "reach 80%. Personal adviser caseloads average 23 against a target of 22.",
    "3. Neglect and pre-proceedings. Seven families have been in pre-proceedings for over "
    "12 weeks and 34 care proceedings have run over 26 weeks. The neglect strategy and the "
    "Graded Care Profile guidance are in place; the thematic audit in December found "
    "better use of chronologies but drift remains where plans are not reviewed.",
    "4. Child protection chairs and medicals. CP chairs raised 16 escalations in December. "
    "92% of strategy discussions for physical injury considered a CP medical; the dip "
    "samples show the protocol is understood but not yet applied every time.",
    "5. Permanence, life-story work and children placed with parents. 83% of children in "
    "care have a permanence plan by their second review. Life-story work started within "
    "timescale for 49% of children, well short of the 75% target; this is the weakest "
    "area of practice. 28 children are placed with parents and 96% of those placements "
    "have a completed assessment.",
    "6. Leadership and workforce. Supervision in time is 85.5% and agency social workers "
    "make up 22.5% of the workforce. Of the practice evaluations completed, 23% were "
    "graded good, 65.5% requires improvement and 10% inadequate.",
    "7. Next steps. The Improvement Partnership will review this draft in January 2021 "
    "before the focused visit.",
]

EMPTY = "scorecards/2020-12/Scorecard Dec 2020.xlsx"
SIGN_IN_PAGE = "highlight/2020-11 highlight report.pdf"
TRUNCATED = ("policies/neglect/Copy of Graded Care Profile guidance October 2020.pdf",
             "policies/neglect/Graded Care Profile guidance October 2020.pdf")
DUPLICATE = ("minutes/improvement partnership/Improvement Partnership minutes 15.12.2020 (1).docx",
             "minutes/improvement partnership/Improvement Partnership minutes 15.12.2020.docx")
CONFLICT = ("scorecards/2020-11/Children in care scorecard Nov 2020-LAPTOP-4G7H2K.xlsx",
            "scorecards/2020-11/Children in care scorecard Nov 2020.csv")
SHORTCUT = ("scorecards/2020-10/Scorecard Oct 2020.xlsx - Shortcut.lnk",
            "..\\..\\..\\Performance\\Scorecards\\Scorecard Oct 2020.xlsx")
PROTECTED = ("self-evaluation/Self evaluation December 2020 draft.docx", "sample-only")


def document(rel):
    out = io.BytesIO()
    title = os.path.splitext(os.path.basename(rel))[0]
    lines = [DOCUMENTS[rel], SAMPLE_NOTE]
    if rel.endswith(".pdf"):
        docgen.write_pdf(out, lines, title)
    else:
        docgen.write_docx(out, lines, title)
    return out.getvalue()


def sign_in_page():
    return b"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to your account</title>
</head>
<body>
<main>
<h1>Sign in</h1>
<p>You need to sign in to see this document.</p>
<form method="post" action="/login">
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>
<p><a href="/help">Can't access your account?</a></p>
</main>
</body>
</html>
"""


def workbook_of_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    out = io.BytesIO()
    docgen.write_xlsx(out, rows, sheet="Scorecard")
    return out.getvalue()


def shortcut(target):
    """A Windows shell link ([MS-SHLLINK]): the 76-byte header, then the relative path as
    counted UTF-16, then the terminal block. File times stay zero, so the bytes are fixed."""
    clsid = bytes.fromhex("0114020000000000c000000000000046")  # 00021401-0000-0000-C000-...
    has_relative_path, is_unicode = 0x08, 0x80
    archive = 0x20
    header = struct.pack("<I16sII", 0x4C, clsid, has_relative_path | is_unicode, archive)
    header += bytes(24)  # creation, access and write times
    header += struct.pack("<IiIHHII", 0, 0, 1, 0, 0, 0, 0)  # size, icon, show normal, ...
    assert len(header) == 0x4C
    path = target.encode("utf-16-le")
    return header + struct.pack("<H", len(target)) + path + bytes(4)


def expected(root):
    """Every file this script owns, as {relative path: bytes}."""
    files = {rel: document(rel) for rel in DOCUMENTS}
    files[EMPTY] = b""
    files[SIGN_IN_PAGE] = sign_in_page()
    copy, whole = TRUNCATED
    files[copy] = files[whole][: len(files[whole]) // 2]
    dup, original = DUPLICATE
    files[dup] = files[original]
    conflict, csv_source = CONFLICT
    files[conflict] = workbook_of_csv(os.path.join(root, csv_source))
    link, target = SHORTCUT
    files[link] = shortcut(target)
    return files


def protected_docx(password):
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        sys.exit(f"{PROTECTED[0]} is missing and making it needs msoffcrypto-tool: "
                 "pip install msoffcrypto-tool")
    import msoffcrypto
    rel = PROTECTED[0]
    plain = io.BytesIO()
    docgen.write_docx(plain, DRAFT + [SAMPLE_NOTE], os.path.splitext(os.path.basename(rel))[0])
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain.getvalue())).encrypt(password, out)
    check = msoffcrypto.OfficeFile(io.BytesIO(out.getvalue()))
    check.load_key(password=password)
    back = io.BytesIO()
    check.decrypt(back)
    assert back.getvalue() == plain.getvalue(), "the encrypted draft does not decrypt"
    return out.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("evidence", nargs="?",
                    default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                         "evidence"))
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if a file would change")
    args = ap.parse_args()
    root = os.path.normpath(args.evidence)
    changed = []
    for rel, data in sorted(expected(root).items()):
        path = os.path.join(root, rel)
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        except FileNotFoundError:
            pass
        changed.append(rel)
        if not args.check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
    rel, password = PROTECTED
    path = os.path.join(root, rel)
    if not os.path.exists(path):
        changed.append(rel)
        if not args.check:
            data = protected_docx(password)
            with open(path, "wb") as f:
                f.write(data)
    for rel in changed:
        print(("would write " if args.check else "wrote ") + rel)
    if args.check and changed:
        sys.exit(1)


if __name__ == "__main__":
    main()
