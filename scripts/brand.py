"""Draw the brand images (custom_components/asmr/brand/) with numpy and zlib.

A crescent moon with three sound-wave arcs to its right, on a transparent background,
drawn at 4x and averaged down for smooth edges. Run: .venv/bin/python scripts/brand.py
"""

from __future__ import annotations

from pathlib import Path
import struct
import zlib

import numpy as np
from numpy.typing import NDArray

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "asmr" / "brand"
MOON = np.array([92, 75, 209], dtype=np.float64)  # indigo: readable on light and dark
WAVE = np.array([155, 120, 240], dtype=np.float64)  # lavender
SUPERSAMPLE = 4


def png_rgba(image: NDArray[np.uint8]) -> bytes:
    """Return an 8-bit RGBA PNG of a ``(height, width, 4)`` image."""
    height, width, _ = image.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = np.concatenate(
        [np.zeros((height, 1), dtype=np.uint8), image.reshape(height, -1)], axis=1
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def glyph(width: int, height: int, waves: int = 3) -> NDArray[np.uint8]:
    """Return the moon-and-waves glyph as RGBA, in a box of ``width`` x ``height``."""
    s = SUPERSAMPLE
    y, x = np.mgrid[0 : height * s, 0 : width * s].astype(np.float64)
    x = (x + 0.5) / (height * s)  # unit = the image height
    y = (y + 0.5) / (height * s)
    # Crescent: a disc minus a disc shifted up and to the right; the whole glyph
    # (moon to outermost wave) is centred in the box.
    r, gap, step, half = 0.22, 0.085, 0.08, 0.026
    outer = r + gap + step * (waves - 1) + half
    cx, cy = width / height / 2 - (outer - r) / 2, 0.5
    disc = (x - cx) ** 2 + (y - cy) ** 2 <= r**2
    bite = (x - (cx + 0.14)) ** 2 + (y - (cy - 0.10)) ** 2 <= (r * 0.86) ** 2
    moon = disc & ~bite
    # Sound waves: arcs centred on the moon, opening to the right.
    dist = np.hypot(x - cx, y - cy)
    angle = np.abs(np.arctan2(y - cy, x - cx))
    arcs = np.zeros_like(moon)
    for k in range(waves):
        radius = r + gap + step * k
        ring = np.abs(dist - radius) <= half
        # Round caps: the ring within +-(44 - 5k) degrees, plus discs at its ends.
        span = np.deg2rad(44 - 5 * k)
        arc = ring & (angle <= span)
        for sign in (-1, 1):
            ex = cx + radius * np.cos(span)
            ey = cy + sign * radius * np.sin(span)
            arc |= (x - ex) ** 2 + (y - ey) ** 2 <= half**2
        arcs |= arc
    shape = np.zeros((height * s, width * s, 4))
    shape[moon, :3] = MOON
    shape[arcs & ~moon, :3] = WAVE
    shape[..., 3] = np.where(moon | arcs, 255.0, 0.0)
    # Average the supersampled pixels; colour weighted by coverage.
    blocks = shape.reshape(height, s, width, s, 4)
    alpha = blocks[..., 3].mean(axis=(1, 3))
    weight = blocks[..., 3:4] / 255.0
    colour = (blocks[..., :3] * weight).sum(axis=(1, 3)) / np.maximum(
        weight.sum(axis=(1, 3)), 1e-9
    )
    out = np.concatenate([colour, alpha[..., None]], axis=2)
    return np.asarray(np.rint(np.clip(out, 0, 255)), dtype=np.uint8)


def main() -> None:
    """Write icon.png (256), icon@2x.png (512), logo.png (512x256), logo@2x.png."""
    BRAND.mkdir(parents=True, exist_ok=True)
    files = {
        "icon.png": glyph(256, 256),
        "icon@2x.png": glyph(512, 512),
        "logo.png": glyph(512, 256, waves=4),
        "logo@2x.png": glyph(1024, 512, waves=4),
    }
    for name, image in files.items():
        (BRAND / name).write_bytes(png_rgba(image))
        print(f"{BRAND / name}: {image.shape[1]}x{image.shape[0]}")


if __name__ == "__main__":
    main()
