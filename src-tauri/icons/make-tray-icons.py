"""Draws the tray's three health icons from the app icon: the icon with a
badge in its lower-right corner (green: healthy, blue: running, red with a
bar: failing). Run again after changing icon.png:

    python3 src-tauri/icons/make-tray-icons.py   # needs Pillow
"""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
# 64 px: crisp at the 16-32 px trays show, and small to embed.
SIZE = 64
# Drawn at 4x and scaled down, for smooth edges.
SCALE = 4

BADGES = {
    "healthy": (22, 163, 74),
    "running": (37, 99, 235),
    "failing": (220, 38, 38),
}


def badge(name: str, color: tuple[int, int, int]) -> Image.Image:
    big = SIZE * SCALE
    base = Image.open(HERE / "icon.png").convert("RGBA").resize((big, big), Image.LANCZOS)
    draw = ImageDraw.Draw(base)
    r = big * 0.24
    cx, cy = big - r - 2, big - r - 2
    # A white ring keeps the badge apart from the blue icon.
    ring = r + big * 0.04
    draw.ellipse((cx - ring, cy - ring, cx + ring, cy + ring), fill=(255, 255, 255, 255))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=color + (255,))
    w = r * 0.28
    if name == "failing":
        # An exclamation mark: a bar and a dot.
        draw.rounded_rectangle((cx - w / 2, cy - r * 0.62, cx + w / 2, cy + r * 0.15), w / 2, fill="white")
        draw.ellipse((cx - w / 2, cy + r * 0.32, cx + w / 2, cy + r * 0.32 + w), fill="white")
    elif name == "running":
        # Three dots: work in progress.
        for dx in (-r * 0.45, 0, r * 0.45):
            draw.ellipse((cx + dx - w / 2, cy - w / 2, cx + dx + w / 2, cy + w / 2), fill="white")
    else:
        # A check mark.
        draw.line(
            [(cx - r * 0.45, cy), (cx - r * 0.1, cy + r * 0.35), (cx + r * 0.5, cy - r * 0.35)],
            fill="white",
            width=int(w),
            joint="curve",
        )
    return base.resize((SIZE, SIZE), Image.LANCZOS)


for name, color in BADGES.items():
    badge(name, color).save(HERE / f"tray-{name}.png", optimize=True)
    print(f"wrote tray-{name}.png")
