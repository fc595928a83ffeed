// Headless Chromium loads a whole site from examples/files and talks to a WebSocket echo server:
// tests/browser/site/ (index.html, style.css, util.js, app.js) is copied into SITE_DIR next to a
// PNG generated here and the video scripts/browser-test.sh put there, with a manifest.json naming
// the WebSocket URL, the image's pixels and the video's size, ranges and SHA-256s. The page checks
// all of it itself (app.js) and writes the outcome into the DOM, read here over the DevTools
// protocol; the page is loaded twice (the reload revalidates: 304s). Then the server's access log
// must show every request answered 200, 206 or 304 (some 206s and 304s among them), each for a
// file the page names, and every response the browser got from the network must be in it; the
// browser's own account of its connections (DevTools Network events: connectionId, protocol)
// must show HTTP/1.1 connections kept alive and reused: fewer connections than requests.
//
// usage: node tests/browser/site.mjs SITE_DIR FILES_URL WS_URL ACCESS_LOG
// env: BROWSER_SPKI (base64 SHA-256 of the test certificate's key, for
// --ignore-certificate-errors-spki-list), BROWSER_VIDEO ("WIDTHxHEIGHTxSECONDS" when SITE_DIR's
// video.webm is a real video, empty when it is only bytes), BROWSER_NODE_DIR, CHROMIUM.
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { launch } from './chromium.mjs';

const [siteDir, filesUrl, wsUrl, accessLog] = process.argv.slice(2);
if (!accessLog) {
    console.error('usage: node tests/browser/site.mjs SITE_DIR FILES_URL WS_URL ACCESS_LOG');
    process.exit(2);
}
const TAG = 'browser-test';
const LOAD_WAIT = 60_000; // one page load with all its checks (a 10 MB fetch and 100 WebSocket messages)
const MESSAGES = 50; // text and binary messages each: 100 round trips
// a last resort: whatever hangs, the script ends (and chromium.mjs ends Chromium)
setTimeout(() => {
    console.error(`${TAG}: FAIL: gave up after 150 s`);
    process.exit(1);
}, 150_000).unref();

function check(ok, what, got) {
    if (!ok) throw new Error(`${what}${got === undefined ? '' : `: got ${JSON.stringify(got)}`}`);
}

// --- the site --------------------------------------------------------------------------------

const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
});
function crc32(buf) {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
}

/** An RGB PNG whose pixel (x, y) is colour(x, y), and a few of its pixels to check. */
function png(width, height, colour) {
    const rows = Buffer.alloc((1 + width * 3) * height);
    for (let y = 0; y < height; y++) {
        const row = y * (1 + width * 3); // filter byte 0, then RGB
        for (let x = 0; x < width; x++) rows.set(colour(x, y), row + 1 + x * 3);
    }
    const chunk = (type, data) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(data.length);
        const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(body));
        return Buffer.concat([len, body, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, adaptive filters, no interlace
    const file = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr),
        chunk('IDAT', deflateSync(rows)),
        chunk('IEND', Buffer.alloc(0)),
    ]);
    const at = [
        [0, 0],
        [width - 1, height - 1],
        [17, 29],
        [width >> 1, height >> 1],
    ];
    return { file, pixels: at.map(([x, y]) => [x, y, ...colour(x, y)]) };
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

function buildSite() {
    const src = new URL('./site/', import.meta.url);
    for (const name of readdirSync(src)) copyFileSync(new URL(name, src), join(siteDir, name));
    const image = png(64, 48, (x, y) => [x * 4, y * 5, 255 - x - y]);
    writeFileSync(join(siteDir, 'image.png'), image.file);
    const video = readFileSync(join(siteDir, 'video.webm'));
    const size = video.length;
    const mid = size >> 1;
    const midEnd = Math.min(mid + 1048575, size - 1); // 1 MiB from the middle
    const ranges = [
        ['bytes=0-999', 0, 999],
        [`bytes=${mid}-${midEnd}`, mid, midEnd],
        ['bytes=-500', size - 500, size - 1],
        [`bytes=${size - 1234}-`, size - 1234, size - 1],
    ].map(([header, start, end]) => ({ header, start, end, sha256: sha256(video.subarray(start, end + 1)) }));
    const [width, height, duration] = (process.env.BROWSER_VIDEO || '').split('x').map(Number);
    const manifest = {
        ws: wsUrl,
        messages: MESSAGES,
        image: { width: 64, height: 48, pixels: image.pixels },
        video: { size, sha256: sha256(video), ranges, playable: Boolean(width), width, height, duration },
        revalidate: ['style.css', 'util.js', 'app.js', 'image.png'],
    };
    writeFileSync(join(siteDir, 'manifest.json'), JSON.stringify(manifest, null, 1));
    return manifest;
}

// --- the access log --------------------------------------------------------------------------

// Common Log Format: 127.0.0.1 - - [01/Dec/2026:11:50:48 +0000] "GET /x HTTP/1.1" 200 123 45µs
const LINE = /^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+) (HTTP\/[\d.]+)" (\d{3}) /;
function accessLines() {
    return readFileSync(accessLog, 'utf8')
        .split('\n')
        .filter((l) => LINE.test(l))
        .map((l) => {
            const [, method, target, version, status] = l.match(LINE);
            return { method, target, version, status: Number(status), line: l };
        });
}

// --- the browser -----------------------------------------------------------------------------

const manifest = buildSite();
const origin = new URL(filesUrl).origin;
const extra = process.env.BROWSER_SPKI ? [`--ignore-certificate-errors-spki-list=${process.env.BROWSER_SPKI}`] : [];
const chrome = await launch({ extra });
const loads = [];
try {
    const page = await chrome.context.newPage();
    page.setDefaultTimeout(LOAD_WAIT);
    // the browser's account of each response: Chromium's socket (connectionId), the protocol
    const cdp = await chrome.context.newCDPSession(page);
    let network = [];
    cdp.on('Network.responseReceived', ({ response: r }) => {
        if (r.url.startsWith(origin)) network.push(r);
    });
    await cdp.send('Network.enable');

    for (const [i, load] of [() => page.goto(filesUrl), () => page.reload()].entries()) {
        network = [];
        const logBefore = accessLines().length;
        const resp = await load();
        await page.waitForSelector('#result[data-done]', { timeout: LOAD_WAIT });
        const report = JSON.parse(await page.textContent('#result'));
        const ok = await page.getAttribute('#result', 'data-ok');
        const items = await page.$$eval('li', (lis) => lis.map((li) => li.textContent));
        const log = accessLines().slice(logBefore);
        const doc = log.find((l) => l.target === new URL(filesUrl).pathname)?.status;
        loads.push({ doc, report, ok, items, network, log });
        // Playwright shows a revalidated document as the cached 200; the server's log tells
        console.log(`${TAG}: load ${i + 1}: the server answered the document ${doc}, Playwright saw ${resp.status()}`);
        for (const item of items) console.log(`${TAG}:   ${item}`);
    }
    await page.close();
} finally {
    await chrome.close();
}

// --- the verdict -----------------------------------------------------------------------------

const failures = [];
const verify = (what, fn) => {
    try {
        fn();
    } catch (e) {
        failures.push(`${what}: ${e.message}`);
    }
};
for (const [i, load] of loads.entries()) {
    verify(`load ${i + 1}: the page's checks`, () => check(load.ok === 'true', 'not all ok', load.report));
}
verify('the document', () => check(loads[0].doc === 200 && loads[1].doc === 304, 'want 200, then 304 on the reload', loads.map((l) => l.doc)));
// all of it, now Chromium is gone (a line is written when Dir returns, before the response is sent)
const log = accessLines();
verify('access log', () => {
    const bad = log.filter((l) => ![200, 206, 304].includes(l.status));
    check(bad.length === 0, 'requests not answered 200/206/304', bad.map((l) => l.line));
    check(log.every((l) => l.version === 'HTTP/1.1'), 'not all HTTP/1.1', log.map((l) => l.version));
    check(log.some((l) => l.status === 206), 'no 206 Partial Content');
    check(log.some((l) => l.status === 304), 'no 304 Not Modified');
});
const net = loads.flatMap((l) => l.network);
verify('the browser saw', () => {
    check(net.every((r) => r.protocol === 'http/1.1'), 'protocols', [...new Set(net.map((r) => r.protocol))]);
    if (origin.startsWith('https:')) {
        const plain = net.filter((r) => !r.fromDiskCache && !r.securityDetails);
        check(plain.length === 0, 'responses from the network without TLS details', plain.map((r) => r.url));
    }
    // the media stack serves some ranges from its cache and DevTools does not report every media
    // request, so the two lists are compared as sets of paths, not counted
    const logged = new Set(log.map((l) => l.target));
    const unlogged = net.filter((r) => !r.fromDiskCache && !logged.has(new URL(r.url).pathname));
    check(unlogged.length === 0, 'responses from the network missing in the access log', unlogged.map((r) => r.url));
    const pages = new Set(['/', 'manifest.json', ...manifest.revalidate, 'video.webm'].map((p) => new URL(p, filesUrl).pathname));
    const unexpected = log.filter((l) => !pages.has(l.target));
    check(unexpected.length === 0, 'requests for something the page does not name', unexpected.map((l) => l.line));
});
const connections = new Set(net.filter((r) => r.connectionId).map((r) => r.connectionId));
const reused = net.filter((r) => r.connectionReused).length;
verify('keep-alive', () => {
    check(connections.size > 0 && connections.size < log.length, 'connections vs requests', [connections.size, log.length]);
    check(reused > 0, 'no response on a reused connection');
});

const count = (s) => log.filter((l) => l.status === s).length;
const tls = [...new Set(net.filter((r) => r.securityDetails).map((r) => `${r.securityDetails.protocol} ${r.securityDetails.cipher}`))];
if (tls.length) console.log(`${TAG}: TLS: ${tls.join(', ')}; the WebSocket: ${wsUrl}`);
const ws = loads.map((l) => l.report.websocket?.detail).filter(Boolean);
console.log(
    `${TAG}: ${log.length} requests in the access log (${count(200)} × 200, ${count(206)} × 206, ${count(304)} × 304) ` +
        `over ${connections.size} connections (${reused} responses on a reused one), ` +
        `WebSocket: ${ws.map((w) => `${w.roundTrips} round trips, median ${w.medianMs} ms (text ${w.textMedianMs}, binary ${w.binaryMedianMs})`).join('; ')}`,
);
if (failures.length) {
    for (const f of failures) console.error(`${TAG}: FAIL: ${f}`);
    for (const [i, load] of loads.entries()) {
        console.error(`${TAG}: load ${i + 1}: access log:\n${load.log.map((l) => l.line).join('\n')}`);
        const seen = load.network.map((r) => `${r.status} ${r.url} ${r.requestHeaders?.range ?? r.requestHeaders?.Range ?? ''} conn ${r.connectionId}${r.fromDiskCache ? ' (disk cache)' : ''}`);
        console.error(`${TAG}: load ${i + 1}: the browser's responses:\n${seen.join('\n')}`);
    }
    process.exit(1);
}
console.log(`${TAG}: PASS`);
