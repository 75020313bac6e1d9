"""Reading CSV files (plain or gzip) row by row with physical line numbers.

The driver feeds each row to a format's converter and gathers every bad row as a
:class:`~corridorguard.errors.RowError` whose line is the *physical* line where the record starts
(the header is line 1; quoted fields may span several lines).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from corridorguard.errors import ImportRejected, RowError
from corridorguard.incidents._values import NUL_REASON
from corridorguard.incidents.model import Incident

Errs = list[tuple[str, str]]
Converter = Callable[[list[str], Errs], Incident | None]
#: ``progress(done, total)``; during parsing the unit is bytes of the file read.
Progress = Callable[[int, int | None], None]

_PROGRESS_EVERY = 4096

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class ReadOptions:
    """Options shared by every format (see :func:`corridorguard.incidents.read_incidents`)."""

    source: str | None = None
    tlp: str = "CLEAR"
    originator: str | None = None
    rel_to: tuple[str, ...] = ()
    mapping: dict[str, Any] = field(default_factory=dict)
    encoding: str = "utf-8"


@contextmanager
def open_text(path: Path, encoding: str = "utf-8") -> Iterator[tuple[IO[str], IO[bytes], int]]:
    """``(text, raw, size)``: a text stream over ``path`` (``.gz`` aware; a UTF-8 BOM is dropped).

    ``raw.tell()`` is the number of bytes of the file read so far (for progress).
    """
    raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed below
    try:
        size = os.fstat(raw.fileno()).st_size
        head = raw.read(2)
        raw.seek(0)
        binary: IO[bytes] = raw
        if head == b"\x1f\x8b" or path.suffix == ".gz":
            binary = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            encoding = "utf-8-sig"
        text = io.TextIOWrapper(binary, encoding=encoding, newline="")
        try:
            yield text, raw, size
        finally:
            text.detach()
    finally:
        raw.close()


def header_index(header: list[str]) -> dict[str, int]:
    """Column name (stripped, lower case) → index; the first of duplicated names wins."""
    idx: dict[str, int] = {}
    for i, name in enumerate(header):
        idx.setdefault(name.strip().lower(), i)
    return idx


def require_columns(idx: dict[str, int], names: list[str], file: str) -> None:
    """Reject the file (line 1) when a required column is missing."""
    missing = [n for n in names if n not in idx]
    if missing:
        raise ImportRejected(file, [RowError(1, n, "required column missing") for n in missing])


def decode_error_line(path: Path, encoding: str) -> tuple[int, str]:
    """Physical line (and reason) of the first byte that ``encoding`` cannot decode."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return line, f"byte {data[exc.start]:#04x} is not valid {encoding} (see --encoding)"
    return 1, f"not valid {encoding}"


def read_rows(
    path: Path,
    make_converter: Callable[[list[str]], Converter],
    *,
    progress: Progress | None = None,
    encoding: str = "utf-8",
) -> tuple[list[Incident], list[RowError], int]:
    """Parse every row; returns ``(records, errors, rows_read)``."""
    file = str(path)
    records: list[Incident] = []
    errors: list[RowError] = []
    rows_read = 0
    prev = 1
    try:
        with open_text(path, encoding) as (text, raw, size):
            reader = csv.reader(text, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise ImportRejected(file, [RowError(1, "header", "empty file")]) from None
            convert = make_converter(header)
            width = len(header)
            prev = reader.line_num
            append = records.append
            errs: Errs = []  # reused; only rows with errors fill it
            while True:
                try:
                    for row in reader:
                        line = prev + 1
                        prev = reader.line_num
                        n = len(row)
                        if n != width:
                            if n <= 1 and (not row or not row[0].strip()):
                                continue  # blank line
                            errs.append(("row", f"{n} fields, header has {width}"))
                            inc = None
                        elif "\x00" in "".join(row):  # PostgreSQL cannot store NUL
                            errs.extend(
                                (header[k], NUL_REASON) for k, c in enumerate(row) if "\x00" in c
                            )
                            inc = None
                        else:
                            inc = convert(row, errs)
                        rows_read += 1
                        if errs:
                            errors.extend(RowError(line, f, r) for f, r in errs)
                            errs.clear()
                        elif inc is not None:
                            append(inc)
                        if progress is not None and rows_read % _PROGRESS_EVERY == 0:
                            progress(raw.tell(), size)
                    break
                except csv.Error as exc:  # the reader goes on with the next line
                    rows_read += 1
                    errors.append(RowError(prev + 1, "row", f"malformed CSV: {exc}"))
                    prev = reader.line_num
            if progress is not None:
                progress(size, size)
    except UnicodeDecodeError:  # the file as a whole is unreadable, even with skip_bad
        line, reason = decode_error_line(path, encoding)
        raise ImportRejected(file, [RowError(line, "row", reason)]) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ImportRejected(file, [RowError(1, "file", f"cannot read: {exc}")]) from None
    return records, errors, rows_read
