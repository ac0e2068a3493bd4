"""Writing exports' files: CSV in pieces as the rows come, XLSX in openpyxl's write-only mode.

The streamed download (``views.export``) and the export job (``operations.run_export``) write the same
bytes through these functions; neither holds the rows, only the piece being written.
"""

from __future__ import annotations

import csv
import io
import tempfile

CHUNK_BYTES = 64 * 1024
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filename(kind: str, start, end, fmt: str) -> str:
    """An export's file name: ``visits_2026-01-01_2026-03-31.csv``."""
    return f"{kind}_{start}_{end}.{fmt}"


def sheet_name(kind: str) -> str:
    """The XLSX export's sheet, in the current language."""
    from flask_babel import gettext as _

    return _("Visits") if kind == "visits" else _("Answers")


def csv_chunks(header, rows):
    """The CSV file (with a byte-order mark for spreadsheets) in pieces of about 64 KiB, as the rows come."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
        if buf.tell() >= CHUNK_BYTES:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def xlsx_file(sheet: str, header, rows):
    """The workbook written in write-only mode (each row goes to disk as it is appended) into an
    unnamed temporary file, returned open; the caller reads and closes it."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(header)
    for row in rows:
        ws.append([csv_safe(v) for v in row])
    out = tempfile.TemporaryFile()
    try:
        wb.save(out)
    except BaseException:
        out.close()
        raise
    return out


def file_chunks(fh):
    """An open file's bytes in 64 KiB pieces; the file is closed at the end (or when abandoned)."""
    try:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk
    finally:
        fh.close()


def csv_safe(value):
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
