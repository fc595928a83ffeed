// Checks, in the browser, everything the page loaded from examples/files and the WebSocket echo
// server named in manifest.json (written by tests/browser/site.mjs), and writes the outcome into
// the DOM: each check's <li> gets data-ok and a line of text, #result gets data-ok (all passed),
// data-done and the whole report as JSON, which site.mjs reads over the DevTools protocol.
'use strict';

const WAIT = 10000; // every wait in the page is bounded by this

async function checkCss() {
    const style = getComputedStyle(document.getElementById('css'));
    check(style.color === 'rgb(1, 2, 3)', 'style.css color not applied', style.color);
    check(style.borderTopWidth === '7px', 'style.css border not applied', style.borderTopWidth);
    return `color ${style.color}, border ${style.borderTopWidth}`;
}

async function checkImage(want) {
    const img = document.getElementById('img');
    await within(WAIT, 'image decode', img.decode());
    check(img.naturalWidth === want.width && img.naturalHeight === want.height, 'image size', [
        img.naturalWidth,
        img.naturalHeight,
    ]);
    const ctx = document.getElementById('canvas').getContext('2d', { willReadFrequently: true });
    ctx.drawImage(img, 0, 0);
    for (const [x, y, ...rgb] of want.pixels) {
        const got = Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
        check(got.join() === rgb.join(), `image pixel at ${x},${y} (want ${rgb})`, got);
    }
    return `${img.naturalWidth}x${img.naturalHeight}, ${want.pixels.length} pixels right`;
}

async function checkRanges(video) {
    for (const r of video.ranges) {
        const resp = await within(WAIT, r.header, fetch('video.webm', { headers: { Range: r.header }, cache: 'no-store' }));
        check(resp.status === 206, `${r.header}: status`, resp.status);
        const want = `bytes ${r.start}-${r.end}/${video.size}`;
        check(resp.headers.get('content-range') === want, `${r.header}: Content-Range (want ${want})`, resp.headers.get('content-range'));
        const body = await resp.arrayBuffer();
        check(body.byteLength === r.end - r.start + 1, `${r.header}: length`, body.byteLength);
        check((await sha256hex(body)) === r.sha256, `${r.header}: SHA-256 differs`);
    }
    const whole = await within(WAIT, 'the whole video', fetch('video.webm', { cache: 'no-store' }));
    check(whole.status === 200, 'whole video: status', whole.status);
    check(whole.headers.get('accept-ranges') === 'bytes', 'Accept-Ranges', whole.headers.get('accept-ranges'));
    const body = await whole.arrayBuffer();
    check(body.byteLength === video.size && (await sha256hex(body)) === video.sha256, 'whole video: bytes differ', body.byteLength);
    return `${video.ranges.length} ranges and the whole ${video.size} bytes match their SHA-256`;
}

async function checkVideo(video) {
    if (!video.playable) return 'skipped: no ffmpeg, the file is not a real video (ranges only)';
    const v = document.getElementById('player');
    if (v.readyState < HTMLMediaElement.HAVE_METADATA) await within(WAIT, 'video metadata', once(v, 'loadedmetadata'));
    check(v.videoWidth === video.width && v.videoHeight === video.height, 'video size', [v.videoWidth, v.videoHeight]);
    check(Math.abs(v.duration - video.duration) < 0.5, 'video duration', v.duration);
    // a seek past what preload=metadata fetched: the media stack asks for another range
    const seeked = once(v, 'seeked');
    v.currentTime = video.duration * 0.75;
    await within(WAIT, 'video seek', seeked);
    if (v.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) await within(WAIT, 'video frame', once(v, 'loadeddata'));
    const ctx = document.getElementById('canvas').getContext('2d', { willReadFrequently: true });
    ctx.drawImage(v, 0, 0, video.width, video.height);
    const px = ctx.getImageData(0, 0, video.width, video.height).data;
    const colours = new Set();
    for (let i = 0; i < px.length; i += 4 * 97) colours.add((px[i] >> 5) * 64 + (px[i + 1] >> 5) * 8 + (px[i + 2] >> 5));
    check(colours.size >= 4, 'the decoded frame is nearly one colour', colours.size);
    return `${v.videoWidth}x${v.videoHeight}, ${v.duration.toFixed(2)} s, frame at ${v.currentTime.toFixed(2)} s decoded`;
}

// conditional requests for what is cached (max-age=60): the server answers 304 Not Modified,
// which fetch shows as the cached 200
async function checkRevalidate(paths) {
    for (const path of paths) {
        const resp = await within(WAIT, path, fetch(path, { cache: 'no-cache' }));
        check(resp.ok, `${path}: revalidated status`, resp.status);
        await resp.arrayBuffer();
    }
    return `${paths.join(', ')} revalidated`;
}

async function checkWebSocket(url, n) {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    await within(WAIT, `WebSocket open ${url}`, once(ws, 'open'));
    const replies = [];
    let waiting = null;
    ws.onmessage = (e) => {
        replies.push(e.data);
        if (waiting) waiting();
    };
    const next = () =>
        replies.length ? Promise.resolve(replies.shift()) : new Promise((resolve) => (waiting = () => ((waiting = null), resolve(replies.shift()))));
    const times = { text: [], binary: [] };
    for (let i = 0; i < n; i++) {
        // text: multi-byte UTF-8, lengths across the 7-bit and 16-bit frame length forms
        const text = `${i} héllo ✓ `.repeat(1 + i * 37);
        let t = performance.now();
        ws.send(text);
        const gotText = await within(WAIT, `text echo ${i}`, next());
        times.text.push(performance.now() - t);
        check(gotText === text, `text echo ${i} differs`, String(gotText).length);
        // binary: up to ~100 KB, past the 16-bit length form into the 64-bit one
        const bytes = new Uint8Array(1 + ((i * 2039) % 100000));
        for (let at = 0; at < bytes.length; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
        t = performance.now();
        ws.send(bytes);
        const gotBin = await within(WAIT, `binary echo ${i}`, next());
        times.binary.push(performance.now() - t);
        check(gotBin instanceof ArrayBuffer, `binary echo ${i} is not binary`, typeof gotBin);
        check((await sha256hex(gotBin)) === (await sha256hex(bytes)), `binary echo ${i} differs`, gotBin.byteLength);
    }
    const closed = once(ws, 'close');
    ws.close(1000, 'done');
    const close = await within(WAIT, 'WebSocket close', closed);
    check(close.code === 1000, 'close code', close.code);
    const all = [...times.text, ...times.binary];
    const ms = (xs) => Number(median(xs).toFixed(3));
    return {
        roundTrips: all.length,
        medianMs: ms(all),
        textMedianMs: ms(times.text),
        binaryMedianMs: ms(times.binary),
        maxMs: Number(Math.max(...all).toFixed(3)),
    };
}

async function main() {
    const report = {};
    const run = async (name, fn) => {
        const li = document.getElementById(name);
        try {
            const detail = await fn();
            report[name] = { ok: true, detail };
            li.textContent = `${name}: ok: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`;
        } catch (e) {
            report[name] = { ok: false, error: String(e && e.message ? e.message : e) };
            li.textContent = `${name}: FAIL: ${report[name].error}`;
        }
        li.dataset.ok = report[name].ok;
    };
    let manifest = null;
    try {
        const resp = await within(WAIT, 'manifest.json', fetch('manifest.json', { cache: 'no-store' }));
        check(resp.status === 200, 'manifest.json status', resp.status);
        manifest = await resp.json();
    } catch (e) {
        report.manifest = { ok: false, error: String(e) };
    }
    if (manifest) {
        await run('css', checkCss);
        await run('image', () => checkImage(manifest.image));
        await run('ranges', () => checkRanges(manifest.video));
        await run('video', () => checkVideo(manifest.video));
        await run('revalidate', () => checkRevalidate(manifest.revalidate));
        await run('websocket', () => checkWebSocket(manifest.ws, manifest.messages));
    }
    const result = document.getElementById('result');
    result.textContent = JSON.stringify(report);
    result.dataset.ok = Object.values(report).every((r) => r.ok);
    result.dataset.done = '1';
}

main();
