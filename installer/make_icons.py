"""Draw the Magnus Desktop app icon (our own artwork) into ``resources/icons/``.

    python installer/make_icons.py          # rewrites resources/icons/magnus-<size>.png and magnus.ico

The icon is drawn with QPainter at every size (no scaling of one bitmap): a rounded blue square
with a rising price line that forms an "M" and ends in an up arrow. ``magnus.ico`` holds 16, 24,
32, 48 and 64 px as 32-bit BMP entries (what every Windows tool reads, NSIS included) and 256 px
as PNG (Windows Vista and later). The files are committed; run this again only to change the art.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath, QPen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 256)


def draw(size: int) -> QImage:
    """The icon at ``size`` x ``size`` px, ARGB32 premultiplied, transparent corners."""
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    margin = s * 0.04
    box = QRectF(margin, margin, s - 2 * margin, s - 2 * margin)
    grad = QLinearGradient(box.topLeft(), box.bottomRight())
    grad.setColorAt(0.0, QColor("#2f7de1"))
    grad.setColorAt(1.0, QColor("#123a73"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(grad)
    p.drawRoundedRect(box, s * 0.2, s * 0.2)
    # faint grid lines (chart paper), only where they stay visible
    if size >= 48:
        p.setPen(QPen(QColor(255, 255, 255, 40), max(1.0, s / 128)))
        for frac in (0.35, 0.55, 0.75):
            p.drawLine(QPointF(s * 0.14, s * frac), QPointF(s * 0.86, s * frac))
    # the price line: an "M" that rises to an arrow head
    pts = [(0.18, 0.78), (0.30, 0.34), (0.46, 0.62), (0.60, 0.30), (0.80, 0.22)]
    path = QPainterPath(QPointF(pts[0][0] * s, pts[0][1] * s))
    for x, y in pts[1:]:
        path.lineTo(QPointF(x * s, y * s))
    pen = QPen(QColor("#ffffff"), max(1.6, s * 0.085))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(path)
    head = QPainterPath(QPointF(0.86 * s, 0.19 * s))
    head.lineTo(QPointF(0.70 * s, 0.14 * s))
    head.lineTo(QPointF(0.77 * s, 0.33 * s))
    head.closeSubpath()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#ffffff"))
    p.drawPath(head)
    # an amber candle: the options premium collected
    if size >= 24:
        p.setBrush(QColor("#f5b942"))
        p.drawRoundedRect(QRectF(0.66 * s, 0.52 * s, 0.12 * s, 0.26 * s), s * 0.02, s * 0.02)
        p.setPen(QPen(QColor("#f5b942"), max(1.0, s * 0.025)))
        p.drawLine(QPointF(0.72 * s, 0.46 * s), QPointF(0.72 * s, 0.84 * s))
    p.end()
    return img


def png_bytes(img: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, "PNG"):
        raise OSError("PNG encoding failed")
    return bytes(data.data())


def bmp_entry(img: QImage) -> bytes:
    """An ICO image entry as a DIB: BITMAPINFOHEADER (height doubled), 32-bit BGRA rows bottom-up,
    then the 1-bit AND mask (all zero: the alpha channel decides)."""
    img = img.convertToFormat(QImage.Format.Format_ARGB32)  # straight alpha, BGRA in memory (little endian)
    w, h = img.width(), img.height()
    header = struct.pack("<IiiHHIIiiII", 40, w, h * 2, 1, 32, 0, w * h * 4, 0, 0, 0, 0)
    rows = b"".join(bytes(img.constScanLine(y))[: w * 4] for y in range(h - 1, -1, -1))
    mask_row = ((w + 31) // 32) * 4
    return header + rows + b"\0" * (mask_row * h)


def ico_bytes(images: dict[int, QImage]) -> bytes:
    """A multi-size ``.ico`` file (ICONDIR + ICONDIRENTRY per size + payloads)."""
    payloads = [(size, png_bytes(img) if size >= 256 else bmp_entry(img)) for size, img in sorted(images.items())]
    out = struct.pack("<HHH", 0, 1, len(payloads))
    offset = 6 + 16 * len(payloads)
    for size, data in payloads:
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(data for _size, data in payloads)


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    images = {size: draw(size) for size in PNG_SIZES}
    for size, img in images.items():
        (OUT / f"magnus-{size}.png").write_bytes(png_bytes(img))
    (OUT / "magnus.ico").write_bytes(ico_bytes({s: images[s] for s in ICO_SIZES}))
    print(f"wrote {len(images)} PNGs and magnus.ico to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
