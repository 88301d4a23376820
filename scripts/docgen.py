#!/usr/bin/env python3
"""Writes small, real, valid office documents for the sample evidence and the benchmark trees:
PDF, docx, xlsx, pptx and odt, each carrying given text (or, for xlsx, rows of cells), and
optionally padded to an exact size with given bytes so that a benchmark tree keeps the file
sizes it had when it held random bytes.

Standard library only. Used as a module (`import docgen`) by scripts/make_sample.py and the
bench/ generators, or from the command line:

    docgen.py OUT.pdf|.docx|.xlsx|.pptx|.odt [--title T] [LINE ...]   (xlsx: LINE is a,b,c)

Why the output looks the way it does:

- Deterministic: the bytes depend only on the arguments. No creation dates, no document
  IDs, no random part names; zip entries carry one fixed timestamp (1980-01-01 00:00) and
  fixed attributes. Zip parts are *stored*, not deflated: deflate output differs between
  zlib builds (zlib and zlib-ng, for one), stored bytes do not, so a committed sample is
  the same on every machine. Stored parts are valid in all of these formats (an odt's
  `mimetype` must be stored anyway).
- Minimal but complete: each format holds the parts its readers require and nothing else.
  A PDF has a catalog, pages, a standard font, content streams, a cross-reference table with
  exact offsets, a trailer, `startxref` and `%%EOF`. A docx/xlsx/pptx has
  `[Content_Types].xml`, the package relationships and its main part (`word/document.xml`,
  `xl/workbook.xml`, `ppt/presentation.xml`; a pptx also needs a slide master, a layout and
  a theme). An odt starts with its stored `mimetype` entry, then `META-INF/manifest.xml` and
  `content.xml`.
- Padding keeps the file valid. A PDF is padded with one extra stream object (listed in the
  cross-reference table, referenced by nothing, which readers allow); a zip-based document
  with one stored part, `<main folder>/media/image1.bin`, whose `.bin` extension
  `[Content_Types].xml` declares (odt: listed in the manifest). The caller gives the bytes
  (`fill`), so a benchmark can pass incompressible ones.
"""
import struct
import sys
import textwrap
import zlib
from xml.sax.saxutils import escape

__all__ = ["write", "write_pdf", "write_docx", "write_xlsx", "write_pptx", "write_odt",
           "EXTENSIONS"]

# A fill is a function n -> list of bytes-like chunks totalling exactly n bytes. It is called
# once per document; the zip writer walks the chunks twice (CRC, then write), so it must
# return a list, not a generator.


def zero_fill(n):
    return [bytes(n)]


# ---------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN = 56
LEADING = 14
WRAP = 88  # characters a line of 11 pt Helvetica holds across an A4 page, roughly
TITLE_WRAP = 58  # the same for the 16 pt bold title
LINES_PER_PAGE = (PAGE_H - 2 * MARGIN) // LEADING


def _pdf_string(s):
    # WinAnsiEncoding is close to cp1252; a character it lacks prints as '?'.
    raw = s.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _wrapped(lines, width=WRAP):
    out = []
    for line in lines:
        out.extend(textwrap.wrap(line, width) or [""])
    return out


def _page_content(title_lines, lines):
    top = PAGE_H - MARGIN - 16
    ops = [b"BT", b"%d %d Td" % (MARGIN, top)]
    if title_lines:
        ops.append(b"/F2 16 Tf 20 TL")
        ops += [(b"T* " if i else b"") + _pdf_string(t) + b" Tj"
                for i, t in enumerate(title_lines)]
        ops.append(b"0 -24 Td")
    ops.append(b"/F1 11 Tf %d TL" % LEADING)
    for i, line in enumerate(lines):
        ops.append((b"T* " if i else b"") + _pdf_string(line) + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def _pdf_objects(title, lines):
    """The PDF's objects, numbered from 1, as bytes between `N 0 obj` and `endobj`."""
    title_lines = _wrapped([title], TITLE_WRAP) if title is not None else []
    body = _wrapped(lines)
    # A title line (16 pt, 20 pt apart) takes the room of two body lines.
    first = max(1, LINES_PER_PAGE - 2 * len(title_lines))
    per_page = [body[:first]] + [body[i:i + LINES_PER_PAGE]
                                 for i in range(first, len(body), LINES_PER_PAGE)]
    # 1 catalog, 2 pages, 3 and 4 fonts, then a page and its content per page.
    kids = [5 + 2 * i for i in range(len(per_page))]
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R /Lang (en-GB) >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
        + b"] /Count %d >>" % len(kids),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    for i, page_lines in enumerate(per_page):
        content = _page_content(title_lines if i == 0 else [], page_lines)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
                    b"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
                    % (PAGE_W, PAGE_H, kids[i] + 1))
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    return objs


def write_pdf(out, lines, title=None, size=None, fill=zero_fill):
    """Writes a PDF with `title` (bold, optional) and `lines` of text, A4, as many pages as
    needed. With `size`, pads to exactly `size` bytes when the document is smaller.
    Returns the number of bytes written."""
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    objs = _pdf_objects(title, lines)
    chunks = [head]
    offsets = []
    pos = len(head)
    for n, body in enumerate(objs, 1):
        piece = b"%d 0 obj\n" % n + body + b"\nendobj\n"
        offsets.append(pos)
        chunks.append(piece)
        pos += len(piece)

    pad_n = len(objs) + 1
    count = len(objs) + 2 if size is not None else len(objs) + 1

    def pad_open(n):
        return b"%d 0 obj\n<< /Length %d >>\nstream\n" % (pad_n, n)

    pad_close = b"\nendstream\nendobj\n"

    def tail(xref_at, slack=0):
        return (b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
                % (count, b" " * slack, xref_at))

    xref_len = len(b"xref\n0 %d\n" % count) + 20 * count

    def total(pad, slack):
        xref_at = pos + len(pad_open(pad)) + pad + len(pad_close)
        return xref_at + xref_len + len(tail(xref_at, slack))

    pad = slack = 0
    if size is not None:
        # The padding's length is written in decimal twice (its /Length and, through the
        # offsets, startxref), so a size can fall between two paddings when a number gains a
        # digit: then a space or two in the trailer's dictionary makes it up.
        pad = max(0, size - total(0, 0))
        while pad and total(pad, 0) > size:
            pad -= 1
        while total(pad, slack) < size and slack < 8:
            slack += 1
    if size is not None:
        offsets.append(pos)
        opener = pad_open(pad)
        chunks.append(opener)
        chunks.extend(fill(pad) if pad else [])
        chunks.append(pad_close)
        pos += len(opener) + pad + len(pad_close)
    xref = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
    xref += [b"%010d 00000 n \n" % off for off in offsets]
    chunks.append(b"".join(xref))
    chunks.append(tail(pos, slack))
    written = 0
    for c in chunks:
        out.write(c)
        written += len(c)
    return written


# ---------------------------------------------------------------------------------------
# Zip (stored entries only; see the module header)
# ---------------------------------------------------------------------------------------

DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
DOS_TIME = 0


def _zip_size(parts, pad_name, pad_len):
    """The size of the zip `_write_zip` makes, without making it."""
    names = [n for n, _ in parts] + ([pad_name] if pad_name else [])
    data = sum(len(d) for _, d in parts) + (pad_len if pad_name else 0)
    per_name = sum(30 + 46 + 2 * len(n.encode()) for n in names)
    return per_name + data + 22


def _write_zip(out, parts, pad_name=None, pad_chunks=()):
    """Writes `parts` [(name, bytes)] and then, if `pad_name`, one entry of `pad_chunks`,
    all stored. Returns the number of bytes written."""
    entries = [(n, [d]) for n, d in parts]
    if pad_name:
        entries.append((pad_name, list(pad_chunks)))
    central = []
    pos = 0
    for name, chunks in entries:
        raw = name.encode()
        crc = 0
        size = 0
        for c in chunks:
            crc = zlib.crc32(c, crc)
            size += len(c)
        if size >= 1 << 32:
            raise ValueError(f"{name}: {size} bytes needs Zip64, which this writer does not do")
        flags = 0 if raw.isascii() else 0x800
        common = struct.pack("<HHHHHIII", 20, flags, 0, DOS_TIME, DOS_DATE, crc, size, size)
        out.write(struct.pack("<I", 0x04034B50) + common + struct.pack("<HH", len(raw), 0) + raw)
        for c in chunks:
            out.write(c)
        central.append(struct.pack("<IH", 0x02014B50, 20) + common
                       + struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, pos) + raw)
        pos += 30 + len(raw) + size
    cd = b"".join(central)
    out.write(cd)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                          len(cd), pos, 0))
    return pos + len(cd) + 22


def _write_padded_zip(out, parts, pad_name, size, fill):
    if size is None:
        return _write_zip(out, parts)
    pad = max(0, size - _zip_size(parts, pad_name, 0))
    return _write_zip(out, parts, pad_name, fill(pad) if pad else [])


XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOC = R_NS + "/officeDocument"


def _x(s):
    return escape(s, {'"': "&quot;"})


def _content_types(overrides):
    body = ('<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="bin" ContentType="application/octet-stream"/>')
    body += "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
    return (XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            + body + "</Types>").encode()


def _rels(targets):
    """targets: [(type suffix or full URI, target)], numbered rId1.."""
    items = []
    for i, (kind, target) in enumerate(targets, 1):
        uri = kind if kind.startswith("http") else f"{R_NS}/{kind}"
        items.append(f'<Relationship Id="rId{i}" Type="{uri}" Target="{target}"/>')
    return (XML + f'<Relationships xmlns="{PKG_RELS_NS}">' + "".join(items)
            + "</Relationships>").encode()


# ---------------------------------------------------------------------------------------
# docx
# ---------------------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _w_par(text, bold=False, size=None):
    rpr = ""
    if bold or size:
        rpr = "<w:rPr>" + ("<w:b/>" if bold else "") + (
            f'<w:sz w:val="{size}"/>' if size else "") + "</w:rPr>"
    return f'<w:p><w:r>{rpr}<w:t xml:space="preserve">{_x(text)}</w:t></w:r></w:p>'


def docx_parts(lines, title=None):
    paras = ([_w_par(title, bold=True, size=32)] if title is not None else [])
    paras += [_w_par(line) for line in lines]
    document = (XML + f'<w:document xmlns:w="{W_NS}"><w:body>' + "".join(paras)
                + '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" '
                'w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" '
                'w:gutter="0"/></w:sectPr></w:body></w:document>').encode()
    return [
        ("[Content_Types].xml", _content_types([
            ("/word/document.xml", "application/vnd.openxmlformats-officedocument."
             "wordprocessingml.document.main+xml")])),
        ("_rels/.rels", _rels([(OFFICE_DOC, "word/document.xml")])),
        ("word/document.xml", document),
    ]


def write_docx(out, lines, title=None, size=None, fill=zero_fill):
    """A Word document: `title` in bold, then one paragraph per line."""
    return _write_padded_zip(out, docx_parts(lines, title), "word/media/image1.bin", size, fill)


# ---------------------------------------------------------------------------------------
# xlsx
# ---------------------------------------------------------------------------------------

S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _col(i):
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    # float() also takes "nan", "inf" and " 1 ": those stay text, as a spreadsheet would.
    return s.strip() == s and s.lower().lstrip("+-") not in ("nan", "inf", "infinity")


def _cell(ref, value):
    v = "" if value is None else str(value)
    if _is_number(v):
        return f'<c r="{ref}"><v>{v}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_x(v)}</t></is></c>'


def xlsx_parts(rows, sheet="Sheet1"):
    sheet = "".join(ch for ch in sheet if ch not in "[]:*?/\\")[:31] or "Sheet1"
    data = "".join(
        f'<row r="{r}">' + "".join(_cell(f"{_col(c)}{r}", v) for c, v in enumerate(row))
        + "</row>" for r, row in enumerate(rows, 1))
    ws = (XML + f'<worksheet xmlns="{S_NS}"><sheetData>{data}</sheetData></worksheet>').encode()
    wb = (XML + f'<workbook xmlns="{S_NS}" xmlns:r="{R_NS}"><sheets>'
          f'<sheet name="{_x(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>').encode()
    sml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return [
        ("[Content_Types].xml", _content_types([
            ("/xl/workbook.xml", f"{sml}.sheet.main+xml"),
            ("/xl/worksheets/sheet1.xml", f"{sml}.worksheet+xml")])),
        ("_rels/.rels", _rels([(OFFICE_DOC, "xl/workbook.xml")])),
        ("xl/workbook.xml", wb),
        ("xl/_rels/workbook.xml.rels", _rels([("worksheet", "worksheets/sheet1.xml")])),
        ("xl/worksheets/sheet1.xml", ws),
    ]


def write_xlsx(out, rows, sheet="Sheet1", size=None, fill=zero_fill):
    """A workbook of one sheet; `rows` are lists of cells (numbers stay numbers)."""
    return _write_padded_zip(out, xlsx_parts(rows, sheet), "xl/media/image1.bin", size, fill)


# ---------------------------------------------------------------------------------------
# pptx
# ---------------------------------------------------------------------------------------

A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
P_ROOT = f'xmlns:a="{A_NS}" xmlns:r="{R_NS}" xmlns:p="{P_NS}"'
EMPTY_TREE = ('<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
              '<p:grpSpPr/>')

_SOLID = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
THEME = (
    XML + f'<a:theme xmlns:a="{A_NS}" name="Plain"><a:themeElements>'
    '<a:clrScheme name="Plain">'
    '<a:dk1><a:srgbClr val="000000"/></a:dk1><a:lt1><a:srgbClr val="FFFFFF"/></a:lt1>'
    '<a:dk2><a:srgbClr val="1F1F1F"/></a:dk2><a:lt2><a:srgbClr val="EEEEEE"/></a:lt2>'
    + "".join(f'<a:accent{i}><a:srgbClr val="{c}"/></a:accent{i}>' for i, c in enumerate(
        ["1F4E79", "2E75B6", "548235", "BF8F00", "C55A11", "7030A0"], 1))
    + '<a:hlink><a:srgbClr val="0563C1"/></a:hlink>'
    '<a:folHlink><a:srgbClr val="954F72"/></a:folHlink></a:clrScheme>'
    '<a:fontScheme name="Plain">'
    '<a:majorFont><a:latin typeface="Arial"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>'
    '<a:minorFont><a:latin typeface="Arial"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>'
    '</a:fontScheme><a:fmtScheme name="Plain">'
    '<a:fillStyleLst>' + _SOLID * 3 + '</a:fillStyleLst>'
    '<a:lnStyleLst>' + f'<a:ln w="6350">{_SOLID}</a:ln>' * 3 + '</a:lnStyleLst>'
    '<a:effectStyleLst>' + '<a:effectStyle><a:effectLst/></a:effectStyle>' * 3
    + '</a:effectStyleLst><a:bgFillStyleLst>' + _SOLID * 3 + '</a:bgFillStyleLst>'
    '</a:fmtScheme></a:themeElements></a:theme>').encode()

CLR_MAP = ('<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" '
           'accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" '
           'accent6="accent6" hlink="hlink" folHlink="folHlink"/>')


def _a_par(text, size, bold=False):
    b = ' b="1"' if bold else ""
    return (f'<a:p><a:r><a:rPr lang="en-GB" sz="{size}"{b} dirty="0"/>'
            f"<a:t>{_x(text)}</a:t></a:r></a:p>")


def pptx_parts(lines, title=None):
    paras = ([_a_par(title, 2800, bold=True)] if title is not None else [])
    paras += [_a_par(line, 1800) for line in lines] or ["<a:p/>"]
    slide = (XML + f"<p:sld {P_ROOT}><p:cSld><p:spTree>{EMPTY_TREE}"
             '<p:sp><p:nvSpPr><p:cNvPr id="2" name="Text 1"/><p:cNvSpPr txBox="1"/><p:nvPr/>'
             '</p:nvSpPr><p:spPr><a:xfrm><a:off x="457200" y="457200"/>'
             '<a:ext cx="11277600" cy="5943600"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
             '</a:prstGeom></p:spPr><p:txBody><a:bodyPr wrap="square"/><a:lstStyle/>'
             + "".join(paras) + "</p:txBody></p:sp></p:spTree></p:cSld>"
             "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>").encode()
    master = (XML + f"<p:sldMaster {P_ROOT}><p:cSld><p:spTree>{EMPTY_TREE}</p:spTree></p:cSld>"
              + CLR_MAP + '<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/>'
              "</p:sldLayoutIdLst></p:sldMaster>").encode()
    layout = (XML + f'<p:sldLayout {P_ROOT} preserve="1"><p:cSld name="Blank"><p:spTree>'
              f"{EMPTY_TREE}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/>"
              "</p:clrMapOvr></p:sldLayout>").encode()
    pres = (XML + f'<p:presentation {P_ROOT}><p:sldMasterIdLst>'
            '<p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>'
            '<p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>'
            '<p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>'
            "</p:presentation>").encode()
    pml = "application/vnd.openxmlformats-officedocument.presentationml"
    return [
        ("[Content_Types].xml", _content_types([
            ("/ppt/presentation.xml", f"{pml}.presentation.main+xml"),
            ("/ppt/slideMasters/slideMaster1.xml", f"{pml}.slideMaster+xml"),
            ("/ppt/slideLayouts/slideLayout1.xml", f"{pml}.slideLayout+xml"),
            ("/ppt/slides/slide1.xml", f"{pml}.slide+xml"),
            ("/ppt/theme/theme1.xml", "application/vnd.openxmlformats-officedocument.theme+xml"),
        ])),
        ("_rels/.rels", _rels([(OFFICE_DOC, "ppt/presentation.xml")])),
        ("ppt/presentation.xml", pres),
        ("ppt/_rels/presentation.xml.rels", _rels([
            ("slideMaster", "slideMasters/slideMaster1.xml"), ("slide", "slides/slide1.xml"),
            ("theme", "theme/theme1.xml")])),
        ("ppt/slideMasters/slideMaster1.xml", master),
        ("ppt/slideMasters/_rels/slideMaster1.xml.rels", _rels([
            ("slideLayout", "../slideLayouts/slideLayout1.xml"),
            ("theme", "../theme/theme1.xml")])),
        ("ppt/slideLayouts/slideLayout1.xml", layout),
        ("ppt/slideLayouts/_rels/slideLayout1.xml.rels", _rels([
            ("slideMaster", "../slideMasters/slideMaster1.xml")])),
        ("ppt/slides/slide1.xml", slide),
        ("ppt/slides/_rels/slide1.xml.rels", _rels([
            ("slideLayout", "../slideLayouts/slideLayout1.xml")])),
        ("ppt/theme/theme1.xml", THEME),
    ]


def write_pptx(out, lines, title=None, size=None, fill=zero_fill):
    """A presentation of one slide: `title` in bold, then one paragraph per line."""
    return _write_padded_zip(out, pptx_parts(lines, title), "ppt/media/image1.bin", size, fill)


# ---------------------------------------------------------------------------------------
# odt
# ---------------------------------------------------------------------------------------

ODT_MIME = b"application/vnd.oasis.opendocument.text"


def odt_parts(lines, title=None, pad=False):
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    paras = ([f"<text:h text:outline-level=\"1\">{_x(title)}</text:h>"] if title is not None
             else [])
    paras += [f"<text:p>{_x(line)}</text:p>" for line in lines]
    content = (XML + '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:'
               f'xmlns:office:1.0" xmlns:text="{text_ns}" office:version="1.2"><office:body>'
               "<office:text>" + "".join(paras)
               + "</office:text></office:body></office:document-content>").encode()
    m = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
    entries = ('<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
               f'manifest:media-type="{ODT_MIME.decode()}"/>'
               '<manifest:file-entry manifest:full-path="content.xml" '
               'manifest:media-type="text/xml"/>')
    if pad:
        entries += ('<manifest:file-entry manifest:full-path="media/image1.bin" '
                    'manifest:media-type="application/octet-stream"/>')
    manifest = (XML + f'<manifest:manifest xmlns:manifest="{m}" manifest:version="1.2">'
                + entries + "</manifest:manifest>").encode()
    # `mimetype` first and stored: that is how readers recognise an OpenDocument file.
    return [("mimetype", ODT_MIME), ("META-INF/manifest.xml", manifest), ("content.xml", content)]


def write_odt(out, lines, title=None, size=None, fill=zero_fill):
    """An OpenDocument text: `title` as a heading, then one paragraph per line."""
    return _write_padded_zip(out, odt_parts(lines, title, pad=size is not None),
                             "media/image1.bin", size, fill)


# ---------------------------------------------------------------------------------------
# By extension
# ---------------------------------------------------------------------------------------

EXTENSIONS = (".pdf", ".docx", ".xlsx", ".pptx", ".odt")


def write(path, lines=(), title=None, rows=None, size=None, fill=zero_fill):
    """Writes the document `path`'s extension names. xlsx takes `rows` (default: `title`
    and `lines`, one per row); the others take `title` and `lines`. Returns its size."""
    ext = path[path.rfind("."):].lower()
    if ext not in EXTENSIONS:
        raise ValueError(f"{path}: not a document type this writer makes ({', '.join(EXTENSIONS)})")
    with open(path, "wb") as out:
        if ext == ".pdf":
            return write_pdf(out, lines, title, size, fill)
        if ext == ".docx":
            return write_docx(out, lines, title, size, fill)
        if ext == ".pptx":
            return write_pptx(out, lines, title, size, fill)
        if ext == ".odt":
            return write_odt(out, lines, title, size, fill)
        if ext == ".xlsx":
            if rows is None:
                rows = [[t] for t in ([title] if title is not None else []) + list(lines)]
            return write_xlsx(out, rows, size=size, fill=fill)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--title")
    ap.add_argument("--size", type=int, help="pad to this many bytes")
    ap.add_argument("lines", nargs="*")
    a = ap.parse_intermixed_args(argv)
    rows = [line.split(",") for line in a.lines] if a.out.lower().endswith(".xlsx") else None
    try:
        write(a.out, a.lines, a.title, rows, a.size)
    except ValueError as e:
        sys.exit(str(e))


if __name__ == "__main__":
    main(sys.argv[1:])
