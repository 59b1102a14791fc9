"""Build contact sheets for human quality screening (blur/glare/exposure).
Each tile: whole photo downscaled to 360 px long side + 360x360 native-resolution crop
at the window with highest gradient energy (computed on a 4x downscaled image)."""
import csv, sys, os
import numpy as np
from PIL import Image, ImageOps, ImageDraw, ImageFont
ROOT = '/work/real-corpus'
OUT = '/tmp/qsheets'
REPOS = ('Adityatomar28/spot-fake-photo', 'MANYAGOEL123/spot-the-fake-photo')

def rows():
    r = list(csv.DictReader(open(f'{ROOT}/index.csv')))
    g = [x for x in r if x['label'] == 'genuine']
    v = [x for x in g if x['split'] == 'validation']
    t = [x for x in g if x['split'] == 'train' and x['repo'] in REPOS]
    return v + t

def best_crop(im, S=360):
    w, h = im.size
    if w <= S or h <= S:
        return (max(0, (w - S) // 2), max(0, (h - S) // 2))
    small = np.asarray(im.convert('L').resize((w // 4, h // 4), Image.BILINEAR), dtype=np.float32)
    gx = np.abs(np.diff(small, axis=1))[:-1, :]
    gy = np.abs(np.diff(small, axis=0))[:, :-1]
    e = gx + gy
    k = S // 4
    ii = np.pad(e.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    H, W = e.shape
    if H < k or W < k:
        return ((w - S) // 2, (h - S) // 2)
    s = ii[k:, k:] - ii[:-k, k:] - ii[k:, :-k] + ii[:-k, :-k]
    y, x = np.unravel_index(np.argmax(s), s.shape)
    return (min(x * 4, w - S), min(y * 4, h - S))

def tile(idx, row, S=360):
    im = ImageOps.exif_transpose(Image.open(f"{ROOT}/{row['file']}")).convert('RGB')
    w, h = im.size
    sc = S / max(w, h)
    th = im.resize((max(1, round(w * sc)), max(1, round(h * sc))), Image.LANCZOS)
    x, y = best_crop(im, S)
    cr = im.crop((x, y, x + S, y + S))
    t = Image.new('RGB', (2 * S + 10, S + 28), (60, 60, 60))
    t.paste(th, ((S - th.width) // 2, 28 + (S - th.height) // 2))
    t.paste(cr, (S + 10, 28))
    d = ImageDraw.Draw(t)
    # mark crop on thumbnail
    ox, oy = (S - th.width) // 2, 28 + (S - th.height) // 2
    d.rectangle([ox + x * sc, oy + y * sc, ox + (x + S) * sc, oy + (y + S) * sc], outline=(255, 0, 0))
    d.text((4, 4), f"#{idx}  {w}x{h}  {row['split'][:3]} {row['repo'].split('/')[0][:12]}", fill=(255, 255, 0),
           font=ImageFont.load_default(size=18))
    return t

if __name__ == '__main__':
    R = rows()
    with open(f'{OUT}/index.tsv', 'w') as f:
        for i, r in enumerate(R):
            f.write(f"{i}\t{r['file']}\t{r['repo']}\t{r['split']}\n")
    for s in range(0, len(R), 8):
        tiles = [tile(i, R[i]) for i in range(s, min(s + 8, len(R)))]
        tw, th = tiles[0].size
        sheet = Image.new('RGB', (2 * tw + 10, 4 * th + 30), (20, 20, 20))
        for j, t in enumerate(tiles):
            sheet.paste(t, ((j % 2) * (tw + 10), (j // 2) * (th + 10)))
        sheet.save(f'{OUT}/sheet_{s // 8:02d}.png')
    print(len(R))
