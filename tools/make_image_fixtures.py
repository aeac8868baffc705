#!/usr/bin/python3
"""Writes the small image files the data tests decode: tests/fixtures/images/.

Run with Debian's Python and PIL (apt-get install -y python3-pil):
    /usr/bin/python3 tools/make_image_fixtures.py [OUT_DIR]

Every lossless file holds a pattern whose pixel values are fixed below, and
the tests state the same values by hand. PIL writes most formats; 16-bit
and interlaced PNGs, which PIL cannot write, are written by a few lines of
PNG encoding here. After writing, every lossless file is read back with PIL
and compared, so a fixture that does not hold its pattern stops the script.
Truncated and oversized variants are made by the tests at run time.
"""
import os
import random
import struct
import sys
import zlib

from PIL import Image

# The 4 x 3 RGB pattern (rows top to bottom) most lossless fixtures hold.
RGB = [
    [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)],
    [(0, 0, 0), (128, 64, 32), (10, 200, 90), (250, 5, 130)],
    [(1, 2, 3), (100, 100, 100), (200, 150, 50), (33, 66, 99)],
]
# The 4 x 3 grey pattern.
GREY = [[0, 50, 100, 150], [200, 250, 7, 77], [177, 255, 1, 128]]
# Alpha for the RGBA and grey+alpha files: pixel (1,0) is fully transparent.
ALPHA = [[255, 0, 128, 255], [1, 2, 3, 4], [255, 255, 254, 253]]
# 16-bit samples: each is 257 * k + d with |d| < 128, so v / 257 rounds to k.
RGB16 = [
    [(0x0000, 0xFFFF, 0x1234), (0xABCD, 0x6400, 0x3232)],
    [(0x0101, 0xFEFE, 0x8070), (0x4000, 0xC0FF, 0x00FF)],
]
GREY16 = [[0x0000, 0xFFFF, 0x1234], [0xABCD, 0x6400, 0x3232]]
# Quadrant colours of the 16 x 16 JPEGs (8 x 8 blocks, so no edge mixing).
QUADS = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (128, 128, 128)]
GREY_QUADS = [50, 100, 150, 200]
CMYK_QUADS = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 0, 0, 128), (100, 50, 200, 30)]


def image_from(rows, mode):
    h, w = len(rows), len(rows[0])
    im = Image.new(mode, (w, h))
    im.putdata([p for row in rows for p in row])
    return im


def quads(mode, colours):
    im = Image.new(mode, (16, 16))
    for i, c in enumerate(colours):
        im.paste(c, ((i % 2) * 8, (i // 2) * 8, (i % 2) * 8 + 8, (i // 2) * 8 + 8))
    return im


def chunk(tag, data):
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def png_bytes(width, height, depth, colour_type, raw_rows, interlaced=False):
    """A PNG from raw scanlines (bytes per row, no filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0,
                       1 if interlaced else 0)
    data = b"".join(b"\x00" + r for r in raw_rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(data, 9)) + chunk(b"IEND", b""))


def adam7_rows(pixels, bpp):
    """Scanlines of the seven Adam7 passes, in order, for 8-bit pixels."""
    h, w = len(pixels), len(pixels[0])
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
              (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        xs = range(x0, w, dx)
        if not xs:
            continue
        for y in range(y0, h, dy):
            rows.append(bytes(v for x in xs for v in pixels[y][x][:bpp]))
    return rows


def interlaced_pattern():
    """9 x 9 RGB: every Adam7 pass has pixels; value depends on x and y."""
    return [[(x * 28, y * 28, (x * 9 + y * 17) % 256) for x in range(9)] for y in range(9)]


def write(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def make_lossless(out):
    rgb, grey = image_from(RGB, "RGB"), image_from(GREY, "L")
    rgb.save(os.path.join(out, "rgb.png"))
    rgb.save(os.path.join(out, "rgb.bmp"))
    rgb.save(os.path.join(out, "rgb.tga"))
    rgb.save(os.path.join(out, "rgb_rle.tga"), compression="tga_rle")
    rgb.save(os.path.join(out, "rgb.ppm"))
    rgb.save(os.path.join(out, "png_named.jpg"), format="PNG")
    grey.save(os.path.join(out, "grey.png"))
    grey.save(os.path.join(out, "grey.pgm"))
    grey.save(os.path.join(out, "grey.bmp"))

    rgba = image_from([[c + (a,) for c, a in zip(r, ar)] for r, ar in zip(RGB, ALPHA)], "RGBA")
    rgba.save(os.path.join(out, "rgba.png"))
    la = image_from([list(zip(g, a)) for g, a in zip(GREY, ALPHA)], "LA")
    la.save(os.path.join(out, "grey_alpha.png"))

    # Palette PNG with a tRNS chunk (index 0 transparent): the palette
    # colour still comes out, as in PIL's convert("RGB").
    pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
    pal.save(os.path.join(out, "palette.png"), transparency=0)

    # GIF: the pattern, then a black frame that must not come out. No
    # transparent index: stb_image makes transparent GIF pixels black where
    # PIL gives their palette colour.
    black = Image.new("RGB", (4, 3)).convert("P", palette=Image.ADAPTIVE)
    pal.save(os.path.join(out, "anim.gif"), save_all=True, append_images=[black],
             duration=100, loop=0)

    Image.new("RGB", (1, 1), (12, 34, 56)).save(os.path.join(out, "one.png"))
    Image.new("1", (5, 3), 1).save(os.path.join(out, "bits.pbm"))


def make_16bit_interlaced(out):
    rows = [b"".join(struct.pack(">HHH", *p) for p in r) for r in RGB16]
    write(out, "rgb16.png", png_bytes(2, 2, 16, 2, rows))
    rows = [b"".join(struct.pack(">H", v) for v in r) for r in GREY16]
    write(out, "grey16.png", png_bytes(3, 2, 16, 0, rows))
    pattern = interlaced_pattern()
    write(out, "interlaced.png", png_bytes(9, 9, 8, 2, adam7_rows(pattern, 3), True))


def make_jpegs(out):
    q = quads("RGB", QUADS)
    q.save(os.path.join(out, "quads.jpg"), quality=95, subsampling=0)
    q.save(os.path.join(out, "quads_progressive.jpg"), quality=95, subsampling=0,
           progressive=True)
    quads("L", GREY_QUADS).save(os.path.join(out, "grey.jpg"), quality=95)
    quads("CMYK", CMYK_QUADS).save(os.path.join(out, "cmyk.jpg"), quality=95, subsampling=0)
    Image.new("RGB", (7, 5), (90, 160, 220)).save(os.path.join(out, "odd.jpg"), quality=95,
                                                  subsampling=2)


def make_noise(out):
    """Larger files (a few KB) to cut in the middle of their pixel data."""
    rnd = random.Random(20)
    im = Image.new("RGB", (40, 40))
    im.putdata([(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
                for _ in range(1600)])
    im.save(os.path.join(out, "noise.png"))
    im.save(os.path.join(out, "noise.jpg"), quality=90)
    im.save(os.path.join(out, "noise_progressive.jpg"), quality=90, progressive=True)
    write(out, "text.png", b"this is a text file, not a PNG image\n")


def check(out):
    """Reads every lossless fixture back with PIL and compares."""
    flat = [p for r in RGB for p in r]
    for name in ["rgb.png", "rgb.bmp", "rgb.tga", "rgb_rle.tga", "rgb.ppm", "png_named.jpg",
                 "rgba.png", "palette.png", "anim.gif"]:
        got = list(Image.open(os.path.join(out, name)).convert("RGB").getdata())
        assert got == flat, (name, got)
    gflat = [v for r in GREY for v in r]
    for name in ["grey.png", "grey.pgm", "grey.bmp", "grey_alpha.png"]:
        got = list(Image.open(os.path.join(out, name)).convert("L").getdata())
        assert got == gflat, (name, got)
    got = list(Image.open(os.path.join(out, "interlaced.png")).convert("RGB").getdata())
    assert got == [p for r in interlaced_pattern() for p in r], got
    assert Image.open(os.path.join(out, "interlaced.png")).info.get("interlace") == 1
    assert Image.open(os.path.join(out, "quads_progressive.jpg")).info.get("progressive")
    assert Image.open(os.path.join(out, "cmyk.jpg")).mode == "CMYK"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "fixtures",
                                                              "images")
    os.makedirs(out, exist_ok=True)
    make_lossless(out)
    make_16bit_interlaced(out)
    make_jpegs(out)
    make_noise(out)
    check(out)
    print("fixtures written to", os.path.normpath(out))


if __name__ == "__main__":
    main()
