# Sourced by .ci/run and scripts/test: Debian's chromium for the panel harness
# (tests/test_panel_harness.py), installed with apt when it is missing (sudo when not root).
if [ -z "${ROMDECK_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian's chromium for the panel harness (apt-get)" >&2
    _sudo=""; [ "$(id -u)" = 0 ] || _sudo="sudo"
    $_sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $_sudo apt-get install -y -qq --no-install-recommends chromium >&2
fi
