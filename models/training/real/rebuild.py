#!/usr/bin/env python3
"""Materialise the real-photo corpus described by manifest.csv.

Python standard library only; the `git` command must be on PATH.

Sources (pick one):
  default          bare-clone each repository into --cache (default
                   ~/.cache/docliveness-real) and fetch the pinned commit
                   (`git fetch --depth 1 origin <commit>`, falling back to a full
                   fetch); a cache that already holds the commit is reused.
  --mirror-root D  use existing git directories under D, e.g. the bare
                   snapshots left by the `fetch` tool: D/<owner>+<name>/repo.
                   Also accepted: D/<owner>+<name>[.git], D/<owner>/<name>[.git].

Output: OUT/{train,validation}/{genuine,screen,print,digital,scan}/<owner>__<repo>__<basename>
(if a basename occurs twice in one repository, the path with '/' replaced by '_'
is used instead of the basename). Every file's sha256 is checked against the
manifest before it is written; files are written atomically, with a fixed mtime,
in manifest order, so two runs give byte-identical trees. OUT/index.csv maps each
written file back to its manifest row.

  python3 rebuild.py --out /data/real-corpus
  python3 rebuild.py --out /data/real-corpus --mirror-root /work/.mirror
  python3 rebuild.py --out /data/real-corpus --split validation
  python3 rebuild.py --out /data/real-corpus --check   # verify only, write nothing

Exit status: 0 when every selected entry was written (or verified), 1 otherwise.
"""
import argparse
import csv
import hashlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = ("genuine", "screen", "print", "digital", "scan")
SPLITS = ("train", "validation")
FIXED_MTIME = 946684800  # 2000-01-01T00:00:00Z


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def out_name(row, rows):
    base = os.path.basename(row["path"])
    dup = sum(1 for r in rows if r["repo"] == row["repo"] and os.path.basename(r["path"]) == base) > 1
    return row["repo"].replace("/", "__") + "__" + (row["path"].replace("/", "_") if dup else base)


def git(gd, *args, **kw):
    return subprocess.run(["git", "--git-dir", gd, *args], capture_output=True, **kw)


def has_commit(gd, commit):
    return os.path.isdir(gd) and git(gd, "cat-file", "-e", commit + "^{commit}").returncode == 0


def mirror_dir(root, repo, commit):
    owner, name = repo.split("/")
    for c in (f"{owner}+{name}/repo", f"{owner}+{name}", f"{owner}+{name}.git",
              f"{owner}/{name}", f"{owner}/{name}.git", f"{owner}/{name}/.git"):
        gd = os.path.join(root, c)
        if has_commit(gd, commit):
            return gd
    return None


def clone_dir(cache, repo, commit, url_tpl):
    owner, name = repo.split("/")
    gd = os.path.join(cache, f"{owner}+{name}.git")
    if has_commit(gd, commit):
        return gd
    if not os.path.isdir(gd):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["git", "init", "--quiet", "--bare", gd], check=True)
        git(gd, "remote", "add", "origin", url_tpl.format(owner=owner, name=name), check=True)
    log(f"fetching {repo} @ {commit[:12]}")
    r = git(gd, "fetch", "--quiet", "--depth", "1", "origin", commit)
    if r.returncode != 0 or not has_commit(gd, commit):
        log(f"  shallow fetch by sha failed ({r.stderr.decode(errors='replace').strip()[:200]}); full fetch")
        git(gd, "fetch", "--quiet", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
    return gd if has_commit(gd, commit) else None


def read_blobs(gd, specs):
    """Yield (spec, bytes or None) for 'commit:path' specs, via one cat-file --batch."""
    p = subprocess.Popen(["git", "--git-dir", gd, "cat-file", "--batch"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for spec in specs:
        p.stdin.write(spec.encode() + b"\n")
        p.stdin.flush()
        header = p.stdout.readline().decode(errors="replace").rstrip("\n")
        parts = header.split()
        if len(parts) == 3 and parts[1] == "blob":
            data = p.stdout.read(int(parts[2]))
            p.stdout.read(1)  # trailing newline
            yield spec, data
        else:  # "<spec> missing", or a blob the snapshot lacks
            if len(parts) == 3 and parts[2].isdigit():
                p.stdout.read(int(parts[2]) + 1)
            yield spec, None
    p.stdin.close()
    p.wait()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(dest, data):
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.utime(tmp, (FIXED_MTIME, FIXED_MTIME))
    os.replace(tmp, dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", default=os.path.join(HERE, "manifest.csv"))
    ap.add_argument("--out", default="real-corpus", help="output folder (default ./real-corpus)")
    ap.add_argument("--split", choices=SPLITS, help="build only this split")
    ap.add_argument("--mirror-root", help="use existing git dirs under this folder instead of cloning")
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "docliveness-real"),
                    help="where bare clones are kept (clone mode)")
    ap.add_argument("--remote", default="https://github.com/{owner}/{name}.git",
                    help="clone URL template (clone mode)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing: verify every selected entry in the sources and, where OUT "
                         "already has the file, its bytes; report files in OUT not in the manifest")
    a = ap.parse_args()

    with open(a.manifest, newline="") as f:
        all_rows = list(csv.DictReader(f))
    rows = [r for r in all_rows if a.split in (None, r["split"])]
    for r in all_rows:
        assert r["label"] in LABELS and r["split"] in SPLITS, r
    dest = {id(r): os.path.join(a.out, r["split"], r["label"], out_name(r, all_rows)) for r in rows}

    by_repo = {}
    for r in rows:
        by_repo.setdefault((r["repo"], r["commit"]), []).append(r)

    missing, mismatch, written, ok = [], [], 0, 0
    out_missing, out_mismatch = [], []
    for (repo, commit), rs in by_repo.items():
        gd = (mirror_dir(a.mirror_root, repo, commit) if a.mirror_root
              else clone_dir(a.cache, repo, commit, a.remote))
        if gd is None:
            log(f"MISSING repo {repo} @ {commit}: no git dir holds that commit")
            missing += [(r, "repository/commit not available") for r in rs]
            continue
        specs = [f"{commit}:{r['path']}" for r in rs]
        for r, (spec, data) in zip(rs, read_blobs(gd, specs)):
            if data is None:
                missing.append((r, "blob not in source (absent from snapshot?)"))
                continue
            got = hashlib.sha256(data).hexdigest()
            if got != r["sha256"]:
                mismatch.append((r, got))
                continue
            ok += 1
            d = dest[id(r)]
            if a.check:
                if not os.path.exists(d):
                    out_missing.append(d)
                elif sha256_file(d) != r["sha256"]:
                    out_mismatch.append(d)
                continue
            if os.path.exists(d) and sha256_file(d) == r["sha256"]:
                continue
            write_atomic(d, data)
            written += 1
        log(f"{repo}: {len(rs)} entries")

    # files in OUT that the manifest does not name
    expected = set(dest.values())
    extra = []
    for sp in ([a.split] if a.split else SPLITS):
        top = os.path.join(a.out, sp)
        for dp, _, fns in os.walk(top):
            extra += [os.path.join(dp, fn) for fn in fns if os.path.join(dp, fn) not in expected]

    if not a.check:
        index = os.path.join(a.out, "index.csv" if not a.split else f"index-{a.split}.csv")
        os.makedirs(a.out, exist_ok=True)
        with open(index, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["file", "label", "kind", "split", "repo", "commit", "path", "sha256", "width", "height"])
            for r in rows:
                if not any(r is m[0] for m in missing + mismatch):
                    w.writerow([os.path.relpath(dest[id(r)], a.out), r["label"], r["kind"], r["split"], r["repo"],
                                r["commit"], r["path"], r["sha256"], r["width"], r["height"]])

    for r, why in missing:
        log(f"MISSING  {r['repo']}:{r['path']} ({why})")
    for r, got in mismatch:
        log(f"MISMATCH {r['repo']}:{r['path']} manifest {r['sha256'][:16]} got {got[:16]}")
    for d in out_missing:
        log(f"NOT BUILT {d}")
    for d in out_mismatch:
        log(f"OUT MISMATCH {d}")
    for d in sorted(extra):
        log(f"UNEXPECTED {d} (not in manifest; left in place)")
    counts = {}
    for r in rows:
        counts[(r["split"], r["label"])] = counts.get((r["split"], r["label"]), 0) + 1
    log("selected: " + ", ".join(f"{s}/{l}={n}" for (s, l), n in sorted(counts.items())))
    log(f"{'verified' if a.check else 'ok'}: {ok}/{len(rows)} source blobs; written: {written}; "
        f"missing: {len(missing)}; mismatched: {len(mismatch)}"
        + (f"; not built: {len(out_missing)}; out mismatched: {len(out_mismatch)}" if a.check else "")
        + f"; unexpected files: {len(extra)}")
    bad = missing or mismatch or out_mismatch or (a.check and out_missing)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
