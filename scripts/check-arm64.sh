#!/usr/bin/env bash
# ARM64 (Raspberry Pi OS 64-bit) check: the Python runtime must give the same vectors on aarch64 as on x86-64.
#
# Builds (or reuses) an arm64 Debian bookworm chroot with debootstrap + qemu-user-static, installs m2v-edge in it
# as users do (`pip install m2v-edge`): the wheel built from this checkout, with its dependencies resolved by pip
# from the wheel's metadata for aarch64 (the whole tree, not a hand-picked list; downloaded on the host, installed
# with the host's pip --platform/--target because the minimal chroot has no pip of its own), encodes
# ~200 STS-B test sentences plus tricky texts with the int8 export of models/potion-base-8M inside the chroot
# and on the host, and fails when the max abs difference is above 1e-5.
#
# Run as root (debootstrap, chroot, mount). Idempotent and safe to re-run after an interrupted run: a
# half-built chroot is thrown away, leftover mounts are removed, everything is unmounted on exit.
#
# Environment:
#   M2V_EDGE_CACHE   cache root (default ~/.cache/m2v-edge); this script uses $M2V_EDGE_CACHE/arm64:
#                    debs/ (Debian packages), wheels/ (aarch64 wheels), rootfs/ (the finished chroot)
#   PYTHON           host Python with numpy, onnxruntime, tokenizers, pip (default: .venv/bin/python, else python3)
#   M2V_EDGE_ARM64_MIRROR      Debian mirror (default http://deb.debian.org/debian)
#   M2V_EDGE_ARM64_NO_BINFMT=1 pretend binfmt_misc is unusable (runs qemu-aarch64-static explicitly)
#   M2V_EDGE_ARM64_REBUILD=1   throw the cached chroot away first (a cold run; the .deb/.whl caches stay)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${M2V_EDGE_CACHE:-${HOME:-/root}/.cache/m2v-edge}/arm64
MIRROR=${M2V_EDGE_ARM64_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
GLIBC_MINOR=36 # bookworm's glibc is 2.36: wheels tagged manylinux_2_17 .. manylinux_2_36 run in the chroot
# The minimal set found to work: minbase + Debian's python3 (interpreter) + the rest of the stdlib (ctypes, ...).
INCLUDE=python3-minimal,libpython3.11-stdlib
PINNED=(onnxruntime tokenizers numpy tqdm) # pinned to the host's versions (a constraints file); the rest resolves
N_PAIRS=100                                  # STS-B test pairs -> 200 sentences
TOLERANCE=1e-5
MODEL=$REPO/models/potion-base-8M
ROOTFS=$CACHE/rootfs
PARTIAL=$CACHE/rootfs.partial
SPEC="suite=$SUITE variant=minbase include=$INCLUDE v1"
QEMU=/usr/bin/qemu-aarch64-static
CHROOT=$(command -v chroot || echo /usr/sbin/chroot)
BINFMT_DIR=/proc/sys/fs/binfmt_misc

if [ -n "${PYTHON:-}" ]; then
    PY=$PYTHON
elif [ -x "$REPO/.venv/bin/python" ]; then
    PY=$REPO/.venv/bin/python
else
    PY=python3
fi

die() {
    echo "check-arm64: $*" >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------- timings
T_START=$(date +%s.%N)
PHASE=""
PHASE_T=""
SUMMARY=()
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
phase() {
    [ -z "$PHASE" ] || phase_done
    PHASE=$1
    PHASE_T=$(date +%s.%N)
    echo "== $PHASE"
}
phase_done() {
    local took
    took=$(elapsed "$PHASE_T")
    SUMMARY+=("$(printf '  %-34s %8ss' "$PHASE" "$took")")
    echo "   done in ${took}s"
    PHASE=""
}

# ---------------------------------------------------------------------------------------------- mounts
# Unmount everything mounted at or below $1 (deepest first); lazy unmount as a last resort.
unmount_below() {
    local dir mnt
    [ -d "$1" ] || return 0
    dir=$(readlink -f "$1")
    awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r mnt; do
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || echo "check-arm64: could not unmount $mnt" >&2
    done
}

# Remove a chroot tree, never crossing into a mounted file system.
remove_tree() {
    [ -e "$1" ] || return 0
    case "$1" in */arm64/rootfs | */arm64/rootfs.partial) ;; *) die "refusing to remove $1" ;; esac
    unmount_below "$1"
    if awk -v d="$(readlink -f "$1")" '$2 == d || index($2, d "/") == 1 { f = 1 } END { exit !f }' /proc/mounts; then
        die "$1 still has mounts below it; unmount them and re-run"
    fi
    rm -rf --one-file-system "$1"
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    local rc=$?
    unmount_below "$PARTIAL"
    unmount_below "$ROOTFS"
    exit "$rc"
}

# ---------------------------------------------------------------------------------------------- phases
ensure_host_tools() {
    local missing=()
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    [ -x "$QEMU" ] || missing+=(qemu-user-static)
    command -v update-binfmts >/dev/null || missing+=(binfmt-support)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "   apt-get install ${missing[*]}"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
            "${missing[@]}"; } >"$CACHE/apt.log" 2>&1 || die "apt-get install ${missing[*]} failed; see $CACHE/apt.log"
    fi
    [ -f "$MODEL/model.safetensors" ] || die "$MODEL: the embedded model is missing"
    "$PY" -c "import numpy, onnxruntime, tokenizers, pip" 2>/dev/null ||
        die "$PY lacks numpy/onnxruntime/tokenizers/pip; run 'make setup' or set PYTHON"
}

# Sets BINFMT=1 when the kernel can run aarch64 binaries through qemu by itself.
ensure_binfmt() {
    BINFMT=0
    if [ "${M2V_EDGE_ARM64_NO_BINFMT:-0}" = 1 ]; then
        echo "   M2V_EDGE_ARM64_NO_BINFMT=1: running qemu-aarch64-static explicitly"
        return 0
    fi
    [ -e "$BINFMT_DIR/register" ] || mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" 2>/dev/null || true
    if [ -e "$BINFMT_DIR/register" ] && [ ! -e "$BINFMT_DIR/qemu-aarch64" ]; then
        update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
    fi
    if [ -e "$BINFMT_DIR/register" ] && [ ! -e "$BINFMT_DIR/qemu-aarch64" ]; then
        # F: the kernel opens the interpreter now, so it need not exist inside the chroot. The kernel itself
        # decodes the \xNN escapes.
        # shellcheck disable=SC2028
        echo ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$QEMU"':F' \
            >"$BINFMT_DIR/register" 2>/dev/null || true
    fi
    if [ -e "$BINFMT_DIR/qemu-aarch64" ] && head -n1 "$BINFMT_DIR/qemu-aarch64" | grep -q enabled &&
        grep -q enabled "$BINFMT_DIR/status"; then
        BINFMT=1
        echo "   binfmt_misc: qemu-aarch64 $(grep -o 'flags:.*' "$BINFMT_DIR/qemu-aarch64" || true)"
    else
        echo "   binfmt_misc unusable: running qemu-aarch64-static explicitly"
    fi
}

build_rootfs() {
    local interp t deb f
    remove_tree "$PARTIAL"
    mkdir -p "$CACHE/debs"
    echo "   debootstrap --foreign (first stage, host)"
    debootstrap --arch=arm64 --foreign --variant=minbase --cache-dir="$CACHE/debs" --include="$INCLUDE" \
        "$SUITE" "$PARTIAL" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
        die "debootstrap first stage failed; see $CACHE/debootstrap.log"
    cp "$QEMU" "$PARTIAL/usr/bin/"
    # The emulated second stage's shell/perl helpers scan the whole 49 MB Packages index several times: keep
    # only the stanzas of the ~107 packages it installs (measured: 110 -> 83 CPU-seconds). dpkg: no fsync.
    local lists=("$PARTIAL"/var/lib/apt/lists/*_Packages) keep
    keep=$(cat "$PARTIAL/debootstrap/required" "$PARTIAL/debootstrap/base")
    for f in "${lists[@]}"; do
        awk -v keep="$keep" 'BEGIN { RS = ""; ORS = "\n\n"; n = split(keep, a, " "); for (i = 1; i <= n; i++) k[a[i]] = 1 }
            $1 == "Package:" && ($2 in k)' "$f" >"$f.kept"
        mv "$f.kept" "$f"
    done
    echo force-unsafe-io >"$PARTIAL/etc/dpkg/dpkg.cfg.d/m2v-edge-unsafe-io"
    if [ "$BINFMT" = 1 ]; then
        # A registration without F looks its interpreter up inside the chroot.
        interp=$(awk '/^interpreter/ { print $2 }' "$BINFMT_DIR/qemu-aarch64")
        if [ -n "$interp" ] && [ ! -e "$PARTIAL$interp" ]; then
            mkdir -p "$PARTIAL$(dirname "$interp")"
            cp "$QEMU" "$PARTIAL$interp"
        fi
        chroot "$PARTIAL" /bin/true || die "binfmt_misc is registered but cannot run aarch64 binaries in the chroot"
    fi
    t=$(date +%s.%N)
    if [ "$BINFMT" = 1 ]; then
        echo "   debootstrap --second-stage (under qemu)"
        chroot "$PARTIAL" /debootstrap/debootstrap --second-stage >>"$CACHE/debootstrap.log" 2>&1 ||
            die "debootstrap second stage failed; see $CACHE/debootstrap.log"
    else
        # Without binfmt_misc, dpkg's maintainer scripts cannot run: unpack the packages on the host instead.
        echo "   no binfmt_misc: unpacking the packages with the host's dpkg-deb instead of the second stage"
        for deb in "$PARTIAL"/var/cache/apt/archives/*.deb; do
            dpkg-deb -x "$deb" "$PARTIAL"
        done
    fi
    echo "   second stage took $(elapsed "$t")s"
    unmount_below "$PARTIAL"
    rm -f "$PARTIAL"/var/cache/apt/archives/*.deb # kept in $CACHE/debs
    echo "$SPEC" >"$PARTIAL/.m2v-edge-rootfs"
    mv "$PARTIAL" "$ROOTFS"
}

# m2v-edge and its aarch64 dependency tree, as `pip install m2v-edge` resolves it; the direct dependencies pinned to
# the host's versions (constraints) so that both sides run the same code.
install_wheels() {
    local pyver key plats=() args wheel
    pyver=$(basename "$(readlink -f "$ROOTFS/usr/bin/python3")")
    pyver=${pyver#python}
    [[ "$pyver" =~ ^3\.[0-9]+$ ]] || die "no python3 in $ROOTFS; remove it and re-run"
    # Built from a copy (an in-tree build would leave build/ and src/*.egg-info in the checkout), once per state
    # of the sources: the dist folder is keyed by their content.
    local files=(pyproject.toml README.md LICENSE src) src_key
    src_key=$(tar -C "$REPO" --exclude=__pycache__ --exclude='*.egg-info' --sort=name --mtime=@0 --owner=0 \
        --group=0 -cf - "${files[@]}" | sha256sum | cut -c1-12)
    if ! [ -f "$CACHE/dist-$src_key/.complete" ]; then
        rm -rf "$CACHE"/dist-* "$CACHE/wheel-src"
        mkdir -p "$CACHE/wheel-src"
        tar -C "$REPO" --exclude=__pycache__ --exclude='*.egg-info' -cf - "${files[@]}" | tar -C "$CACHE/wheel-src" -xf -
        "$PY" -m pip wheel -qq --disable-pip-version-check --no-deps -w "$CACHE/dist-$src_key" "$CACHE/wheel-src" \
            >"$CACHE/wheel.log" 2>&1 || die "building the m2v-edge wheel failed; see $CACHE/wheel.log"
        touch "$CACHE/dist-$src_key/.complete"
    fi
    wheel=$(echo "$CACHE/dist-$src_key"/m2v_edge-*.whl)
    [ -f "$wheel" ] || die "no m2v-edge wheel in $CACHE/dist-$src_key"
    "$PY" -c '
import sys
from importlib.metadata import PackageNotFoundError, version
for name in sys.argv[1:]:
    try:
        print(f"{name}=={version(name)}")
    except PackageNotFoundError:
        pass' "${PINNED[@]}" >"$CACHE/constraints.txt"
    for m in $(seq "$GLIBC_MINOR" -1 17); do plats+=(--platform "manylinux_2_${m}_aarch64"); done
    plats+=(--platform manylinux2014_aarch64)
    args=(-qq --disable-pip-version-check --only-binary=:all: --implementation cp --python-version "$pyver"
        "${plats[@]}" -c "$CACHE/constraints.txt")
    key=$({ cat "$CACHE/constraints.txt"; sha256sum <"$wheel"; echo "py$pyver"; } | sha256sum | cut -c1-12)
    SITE=/opt/m2v-edge/site-$key
    echo "   chroot python $pyver; $(basename "$wheel") with its dependencies; $(tr '\n' ' ' <"$CACHE/constraints.txt")"
    if [ -f "$ROOTFS$SITE/.complete" ]; then
        echo "   reusing $SITE"
        return 0
    fi
    mkdir -p "$CACHE/wheels"
    if ! "$PY" -m pip download "${args[@]}" --no-index --find-links "$CACHE/wheels" -d "$CACHE/wheels" "$wheel" \
        >/dev/null 2>&1; then
        echo "   pip download (m2v-edge's aarch64 dependency tree) -> $CACHE/wheels"
        "$PY" -m pip download "${args[@]}" -d "$CACHE/wheels" "$wheel"
    fi
    rm -rf "$ROOTFS"/opt/m2v-edge/site-*
    # --no-warn-conflicts: pip would compare against the host's environment, which --target does not touch
    "$PY" -m pip install "${args[@]}" --no-warn-conflicts --no-index --find-links "$CACHE/wheels" \
        --target "$ROOTFS$SITE.partial" "$wheel"
    echo "   installed: $(find "$ROOTFS$SITE.partial" -maxdepth 1 -name '*.dist-info' | wc -l) packages," \
        "$(du -sh "$ROOTFS$SITE.partial" | cut -f1)"
    touch "$ROOTFS$SITE.partial/.complete"
    mv "$ROOTFS$SITE.partial" "$ROOTFS$SITE"
}

# The int8 export and the input texts in $ROOTFS/opt/m2v-edge/work (m2v-edge itself is the installed wheel).
prepare_work() {
    WORK=$ROOTFS/opt/m2v-edge/work
    rm -rf "$WORK"
    mkdir -p "$WORK"
    PYTHONPATH="$REPO/src" "$PY" -m m2v_edge export "$MODEL" -o "$WORK/export" --force -q | sed 's/^/   /'
    "$PY" - "$REPO" "$WORK/texts.txt" "$N_PAIRS" <<'TEXTS_PY'
import json
import sys
from pathlib import Path

repo, out, n_pairs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
texts = []
for line in (repo / "src/m2v_edge/source/data/stsb/sts-test.csv").read_text(encoding="utf-8").splitlines():
    fields = line.split("\t")
    if len(fields) >= 7:
        texts += fields[5:7]
    if len(texts) >= 2 * n_pairs:
        break
n_sts = len(texts)
tricky = ["", "Emoji 🚀🔥👍 😀", "机器学习是人工智能的一个分支。", "東京は日本の首都です。", "naïve café Ünïcödé",
          " ".join(["tokenization"] * 300) + " end"]  # > 512 tokens: cut at max_length
extra = repo / "tests/data/tricky_texts.json"
if extra.is_file():
    tricky += json.loads(extra.read_text(encoding="utf-8"))
texts += [t.replace("\n", " ") for t in tricky]  # one text per line
out.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
print(f"   {len(texts)} texts: {n_sts} STS-B test sentences + {len(texts) - n_sts} tricky ones")
TEXTS_PY
}

encode_host() {
    PYTHONPATH="$REPO/src" "$PY" -m m2v_edge encode "$WORK/export" --input "$WORK/texts.txt" \
        --output "$WORK/host.npy" | sed 's/^/   /'
}

encode_arm64() {
    local qemu=()
    # Only /proc: onnxruntime segfaults under qemu when /proc AND /sys are mounted (its cpuinfo probe).
    mount -t proc proc "$ROOTFS/proc"
    [ "$BINFMT" = 1 ] || qemu=("$QEMU")
    if ! env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 PYTHONPATH="$SITE" \
        "$CHROOT" "$ROOTFS" "${qemu[@]}" /usr/bin/python3 -m m2v_edge encode /opt/m2v-edge/work/export \
        --input /opt/m2v-edge/work/texts.txt --output /opt/m2v-edge/work/arm64.npy \
        >"$WORK/arm64.log" 2>&1; then
        cat "$WORK/arm64.log" >&2
        die "encoding inside the arm64 chroot failed"
    fi
    umount "$ROOTFS/proc"
    grep -v -e 'cpuinfo' -e 'cpuid_info' "$WORK/arm64.log" | sed 's/^/   /' || true
    echo "   ($(grep -c -e 'cpuinfo' -e 'cpuid_info' "$WORK/arm64.log" || true) onnxruntime cpuinfo warnings: no /sys, expected)"
    env -i PATH=/usr/bin:/bin PYTHONPATH="$SITE" "$CHROOT" "$ROOTFS" "${qemu[@]}" /usr/bin/python3 -c \
        'import platform, sys; print("   chroot:", platform.machine(), "Python", sys.version.split()[0])'
}

compare() {
    "$PY" - "$WORK" "$TOLERANCE" <<'COMPARE_PY'
import sys
from pathlib import Path

import numpy as np

work, tol = Path(sys.argv[1]), float(sys.argv[2])
host, arm = np.load(work / "host.npy"), np.load(work / "arm64.npy")
texts = (work / "texts.txt").read_text(encoding="utf-8").split("\n")[:-1]
print(f"   host (x86-64) {host.shape} {host.dtype}, arm64 {arm.shape} {arm.dtype}")
if host.shape != arm.shape or host.dtype != arm.dtype or not np.isfinite(arm).all():
    print("   FAIL: shapes, dtypes or finiteness differ")
    sys.exit(1)
diff = np.abs(host.astype(np.float64) - arm.astype(np.float64))
worst = int(diff.max(axis=1).argmax())
norms = np.linalg.norm(host, axis=1) * np.linalg.norm(arm, axis=1)
nz = norms > 0
cos = (host * arm).sum(axis=1)[nz] / norms[nz]
print(f"   max abs diff   {diff.max():.3e} (row {worst}: {texts[worst][:50]!r})")
print(f"   mean abs diff  {diff.mean():.3e}; bit-identical rows {int((diff.max(axis=1) == 0).sum())}/{len(host)}")
print(f"   min cosine     {cos.min():.8f} over {int(nz.sum())} non-zero rows")
ok = diff.max() <= tol
print(f"   {'OK' if ok else 'FAIL'}: max abs diff {'<=' if ok else '>'} {tol:g}")
sys.exit(0 if ok else 1)
COMPARE_PY
}

# ---------------------------------------------------------------------------------------------- main
[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and mount need it)"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one run at a time per cache
trap cleanup EXIT
trap 'exit 130' INT TERM

phase "host tools"
ensure_host_tools
ensure_binfmt

phase "arm64 chroot"
unmount_below "$PARTIAL"
unmount_below "$ROOTFS"
if [ "${M2V_EDGE_ARM64_REBUILD:-0}" = 1 ] || [ ! -f "$ROOTFS/.m2v-edge-rootfs" ] ||
    [ "$(cat "$ROOTFS/.m2v-edge-rootfs")" != "$SPEC" ]; then
    remove_tree "$ROOTFS"
    build_rootfs
else
    echo "   reusing $ROOTFS"
fi

phase "aarch64 wheels"
install_wheels

phase "export + inputs (host)"
prepare_work

phase "encode on host (x86-64)"
encode_host

phase "encode in chroot (arm64, qemu)"
encode_arm64

phase "compare"
STATUS=0
compare || STATUS=1
phase_done

echo "== timings"
printf '%s\n' "${SUMMARY[@]}"
printf '  %-34s %8ss\n' "total" "$(elapsed "$T_START")"
exit "$STATUS"
