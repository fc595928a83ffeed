#!/usr/bin/env bash
# A real browser loads a whole site from Shockwave: headless Chromium (Debian's package, started
# by tests/browser/chromium.mjs with exactly --headless --no-sandbox --disable-gpu
# --disable-background-networking --disable-component-update --no-first-run and a fresh
# --user-data-dir, driven by Playwright over the DevTools protocol) runs tests/browser/site.mjs:
# a page served by examples/files with its stylesheet, two scripts, a PNG, and a ~10 MB WebM
# video (made by ffmpeg; plain bytes if ffmpeg cannot be had) read with Range requests, then 50
# text and 50 binary WebSocket round trips to examples/websocket; loaded twice, the second time
# revalidating (304s). It checks the page's own report in the DOM, that every line of the
# server's access log (SHOCKWAVE_ACCESS_LOG=1) is a 200, 206 or 304, and that the browser kept
# its HTTP/1.1 connections alive.
#
# Run: scripts/browser-test.sh   (installs what is missing; prints "browser-test: skipped:
# <reason>" and exits 0 when Chromium, Node >= 20 or playwright-core cannot be had; ends with
# "browser-test: PASS" or exits non-zero). Env: SCHEME=https (default) serves HTTPS and WSS with a
# test CA made here by openssl, its key's SHA-256 given to Chromium in
# --ignore-certificate-errors-spki-list; SCHEME=http serves plain HTTP and WebSocket.
# CHROMIUM (/usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

BROWSER_TAG=browser-test
# shellcheck source=scripts/browser-lib.sh
source scripts/browser-lib.sh
browser_setup
scheme=${SCHEME:-https}
if [ "$scheme" != http ] && [ "$scheme" != https ]; then
    echo "$BROWSER_TAG: FAIL: SCHEME must be http or https, not $scheme" >&2
    exit 2
fi

# the video: ~10 MB of VP8 (noise keeps the bit rate up), made once and kept in target/browser
VIDEO_SIZE=320x240
VIDEO_SECONDS=8
video_meta=""
video="$BROWSER_NODE_DIR/video-${VIDEO_SIZE}-${VIDEO_SECONDS}s.webm"
if [ -s "$video" ] || scripts/install-deps.sh ffmpeg:ffmpeg; then
    if [ ! -s "$video" ]; then
        timeout 120 ffmpeg -hide_banner -loglevel error -y -f lavfi \
            -i "testsrc2=s=$VIDEO_SIZE:r=15:d=$VIDEO_SECONDS" -vf noise=alls=60:allf=t \
            -c:v libvpx -deadline realtime -cpu-used 16 -qmin 0 -qmax 0 -b:v 20M -an \
            "$video.tmp.webm" || { echo "$BROWSER_TAG: FAIL: ffmpeg could not make the video" >&2; exit 1; }
        mv "$video.tmp.webm" "$video"
    fi
    video_meta="${VIDEO_SIZE}x${VIDEO_SECONDS}"
else
    echo "$BROWSER_TAG: cannot install ffmpeg: the video is 10 MiB of bytes (ranges checked, playback skipped)"
    video="$BROWSER_WORK/bytes.webm"
    head -c 10485760 /dev/urandom >"$video"
fi
site="$BROWSER_WORK/site"
mkdir "$site"
cp "$video" "$site/video.webm"

tls_env=()
spki=""
if [ "$scheme" = https ]; then
    scripts/install-deps.sh openssl:openssl || browser_skip "cannot install openssl to make the test CA"
    # a test CA and a certificate it signs for 127.0.0.1 and localhost; Chromium trusts the CA's key
    if ! (
        cd "$BROWSER_WORK"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
            -subj "/CN=Shockwave browser-test CA" -keyout ca.key -out ca.pem \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
                -keyout key.pem -out cert.csr &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >ext.cnf &&
            openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
                -extfile ext.cnf -out leaf.pem &&
            cat leaf.pem ca.pem >cert.pem # the chain the server sends: its certificate, then the CA
    ) >"$BROWSER_WORK/openssl.log" 2>&1; then
        echo "$BROWSER_TAG: FAIL: openssl could not make the test certificates:" >&2
        cat "$BROWSER_WORK/openssl.log" >&2
        exit 1
    fi
    spki=$(openssl x509 -in "$BROWSER_WORK/ca.pem" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | base64)
    tls_env=(SHOCKWAVE_TLS_CERT="$BROWSER_WORK/cert.pem" SHOCKWAVE_TLS_KEY="$BROWSER_WORK/key.pem")
fi

# every feature on, as scripts/test.sh builds the tests: the library is compiled once
timeout 1200 cargo build --quiet --example files --example websocket --all-features
log="$BROWSER_WORK/access.log"
browser_start "$log" "${tls_env[@]}" SHOCKWAVE_ACCESS_LOG=1 files "$site"
files_addr=$BROWSER_ADDR
browser_start "$BROWSER_WORK/websocket.log" "${tls_env[@]}" websocket
ws_addr=$BROWSER_ADDR
ws_scheme=ws
[ "$scheme" = https ] && ws_scheme=wss
if [ "$scheme" = https ] && ! grep -q "https://$files_addr/" "$log"; then
    echo "$BROWSER_TAG: FAIL: examples/files does not serve HTTPS; it said:" >&2
    cat "$log" >&2
    exit 1
fi

if ! BROWSER_SPKI=$spki BROWSER_VIDEO=$video_meta timeout 180 node tests/browser/site.mjs \
    "$site" "$scheme://$files_addr/" "$ws_scheme://$ws_addr/" "$log"; then
    echo "$BROWSER_TAG: FAIL: tests/browser/site.mjs against $scheme://$files_addr/ and $ws_scheme://$ws_addr/; websocket server said:" >&2
    cat "$BROWSER_WORK/websocket.log" >&2
    exit 1
fi
