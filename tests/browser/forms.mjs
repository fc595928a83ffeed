// Headless Chromium, driven by Playwright, uses examples/forms as a person would: the CSRF
// cookie's attributes, the urlencoded form (HTML escaping of the name), a ~5 MB multipart upload
// through the file input (size and SHA-256 checked against Node's own), and a 403 when the
// cookie is gone. Run by scripts/browser.sh, which installs playwright-core into
// target/browser and passes its directory in BROWSER_NODE_DIR (read by ./chromium.mjs). It keeps
// Playwright's own launch(): goBack needs its --disable-back-forward-cache, and setInputFiles
// timed out (5 MB) when attached with connectOverCDP as tests/browser/chromium.mjs does.
// usage: node tests/browser/forms.mjs http://ADDR/
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from './chromium.mjs';

const base = process.argv[2];
if (!base) {
    console.error('usage: node tests/browser/forms.mjs http://ADDR/');
    process.exit(2);
}

const WAIT = 5000; // every wait is bounded by this (upload and launch get a little more)
// a last resort: whatever hangs, the script ends
setTimeout(() => {
    console.error('browser: FAIL: gave up after 90 s');
    process.exit(1);
}, 90_000).unref();

function check(ok, what, got) {
    if (!ok) throw new Error(`${what}${got === undefined ? '' : `: got ${JSON.stringify(got)}`}`);
}

const dir = mkdtempSync(join(tmpdir(), 'shockwave-browser-'));
const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 20_000,
    // Playwright gives the browser a fresh profile directory of its own (it refuses --user-data-dir
    // here); the background-networking flags keep Chromium from dialling out on a closed network
    args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
    ],
});
try {
    const context = await browser.newContext();
    context.setDefaultTimeout(WAIT);
    context.setDefaultNavigationTimeout(WAIT);
    const page = await context.newPage();

    // the page sets the CSRF cookie: HttpOnly, SameSite=Strict
    const first = await page.goto(base);
    check(first.status() === 200, 'GET / status', first.status());
    const cookies = await context.cookies();
    const csrf = cookies.find((c) => c.name === 'csrf');
    check(csrf, 'no csrf cookie after GET /', cookies);
    check(csrf.httpOnly === true, 'csrf cookie not HttpOnly', csrf);
    check(csrf.sameSite === 'Strict', 'csrf cookie not SameSite=Strict', csrf);
    const hidden = await page.locator('form[action="/hello"] input[name="csrf"]').inputValue();
    check(hidden === csrf.value, 'hidden csrf field differs from the cookie', [hidden, csrf.value]);

    // the urlencoded form: the name comes back as text, escaped, not as markup
    const name = 'Zoë <b>';
    await page.locator('form[action="/hello"] input[name="name"]').fill(name);
    const [hello] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/hello') && r.request().method() === 'POST'),
        page.locator('form[action="/hello"] button').click(),
    ]);
    check(hello.status() === 200, 'POST /hello status', hello.status());
    await page.waitForURL('**/hello', { waitUntil: 'load' });
    const p = (await page.locator('p').textContent()) ?? '';
    check(p === `Hello, ${name}!`, 'POST /hello text', p);
    const bolds = await page.locator('b').count();
    check(bolds === 0, 'the name became markup: <b> elements', bolds);

    // back to the page: upload ~5 MB through the file input
    await page.goBack({ waitUntil: 'load' });
    const data = randomBytes(5 * 1024 * 1024 + 12345);
    const file = join(dir, 'upload.bin');
    writeFileSync(file, data);
    const sha = createHash('sha256').update(data).digest('hex');
    const upload = async () => {
        await page.locator('form[action="/upload"] input[type="file"]').setInputFiles(file);
        const [resp] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith('/upload') && r.request().method() === 'POST', {
                timeout: 15_000,
            }),
            page.locator('form[action="/upload"] button').click(),
        ]);
        return resp;
    };
    const up = await upload();
    check(up.status() === 200, 'POST /upload status', up.status());
    const text = await up.text();
    const want = `upload.bin: ${data.length} bytes, sha256 ${sha}\n`;
    check(text === want, `POST /upload text (want ${JSON.stringify(want)})`, text);

    // a freshly loaded page whose cookie is then deleted: the upload is refused
    await page.goto(base);
    await context.clearCookies();
    check((await context.cookies()).length === 0, 'cookies left after clearCookies');
    const forbidden = await upload();
    check(forbidden.status() === 403, 'POST /upload without the cookie: status', forbidden.status());

    await context.close();
    console.log('browser: forms ok');
} catch (e) {
    console.error(`browser: FAIL: ${e.stack || e}`);
    process.exitCode = 1;
} finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
}
