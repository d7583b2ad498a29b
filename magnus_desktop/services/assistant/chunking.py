"""Markdown/plain-text files → retrieval chunks with stable citation ids.

A chunk's ``source`` is ``<prefix>/<relative path>#<section slug>`` (``concepts/greeks.md#vega``);
the text before the first ``##`` heading has the bare path as its source. Sections longer than
``MAX_CHARS`` are cut at paragraph boundaries into ``#slug``, ``#slug-2``, …
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS = 1200
NOTE_SUFFIXES = (".md", ".markdown", ".txt")
MAX_NOTE_BYTES = 2_000_000

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable passage: ``source`` is its citation id, ``text`` the section body."""

    source: str
    title: str
    text: str

    @property
    def document(self) -> str:
        """What is embedded and BM25-indexed: the title line, then the body."""
        return f"{self.title}\n{self.text}"

    @property
    def content_hash(self) -> str:
        """Hash of title + body: a change re-embeds the chunk."""
        return text_hash(self.document)

    @property
    def body_hash(self) -> str:
        """Hash of the body alone: two chunks with the same text (a copied note) are one passage."""
        return text_hash(self.text)


def text_hash(text: str) -> str:
    """sha256 hex of the UTF-8 text with runs of whitespace collapsed."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def slugify(heading: str) -> str:
    """``"Vega: units"`` → ``"vega-units"`` (lowercase ASCII letters, digits and dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
    return slug or "section"


def _split_long(body: str) -> list[str]:
    if len(body) <= MAX_CHARS:
        return [body]
    parts: list[str] = []
    current = ""
    for para in re.split(r"\n\s*\n", body):
        para = para.strip()
        if not para:
            continue
        while len(para) > MAX_CHARS:  # one huge paragraph: cut at a sentence end if possible
            cut = para.rfind(". ", 0, MAX_CHARS)
            cut = cut + 1 if cut > MAX_CHARS // 3 else MAX_CHARS
            if current:
                parts.append(current)
                current = ""
            parts.append(para[:cut].strip())
            para = para[cut:].strip()
        if current and len(current) + len(para) + 2 > MAX_CHARS:
            parts.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
    if current:
        parts.append(current)
    return parts


def chunk_markdown(text: str, source_path: str, default_title: str) -> list[Chunk]:
    """Cut one Markdown (or plain text) file into chunks.

    Args:
        text: the file's text.
        source_path: the citation prefix, e.g. ``"concepts/greeks.md"``.
        default_title: the page title when the file has no ``# Title`` line.

    Returns:
        Chunks in file order; empty sections are dropped, so an empty file gives ``[]``.
    """
    page_title = default_title
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m and len(m.group(1)) == 1 and page_title == default_title and not any(
            s[1] for s in sections
        ):
            page_title = m.group(2).strip() or default_title
            continue
        if m and len(m.group(1)) == 2:
            sections.append((m.group(2).strip(), []))
            continue
        sections[-1][1].append(line)
    chunks: list[Chunk] = []
    used: set[str] = set()
    for heading, lines in sections:
        body = "\n".join(lines).strip()
        if not body:
            continue
        base = source_path if heading is None else f"{source_path}#{slugify(heading)}"
        title = page_title if heading is None else f"{heading} — {page_title}"
        for i, part in enumerate(_split_long(body)):
            source = base if i == 0 else f"{base}-{i + 1}" if "#" in base else f"{base}#part-{i + 1}"
            n = 2
            unique = source
            while unique in used:
                unique = f"{source}-{n}"
                n += 1
            used.add(unique)
            chunks.append(Chunk(unique, title, part))
    return chunks


def title_from_name(path: Path) -> str:
    """``wheel-notes_2018.md`` → ``"wheel notes 2018"``."""
    return re.sub(r"[_\-]+", " ", path.stem).strip() or path.name


class UnreadableNoteError(ValueError):
    """A notes file that cannot be indexed (binary, undecodable, too large); the message says why."""


def read_note(path: Path) -> str:
    """The text of a notes file.

    Raises:
        UnreadableNoteError: larger than ``MAX_NOTE_BYTES``, contains NUL bytes (binary), or
            is neither UTF-8 (BOM allowed) nor UTF-16 with a BOM.
        OSError: the file cannot be read.
    """
    size = path.stat().st_size
    if size > MAX_NOTE_BYTES:
        raise UnreadableNoteError(f"larger than {MAX_NOTE_BYTES:,} bytes ({size:,})")
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableNoteError(f"not valid UTF-16 ({exc.reason})") from exc
    if b"\x00" in raw:
        raise UnreadableNoteError("binary content (NUL bytes)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableNoteError(f"not valid UTF-8 at byte {exc.start}") from exc
