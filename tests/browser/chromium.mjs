// Starts Debian's Chromium with exactly the flags the browser tests name, plus a fresh
// --user-data-dir and --remote-debugging-port=0, and connects Playwright to it over the DevTools
// protocol (connectOverCDP). Playwright's own launch() adds some thirty switches of its own
// (--disable-field-trial-config, --disable-features=..., --enable-automation, --headless plus
// --hide-scrollbars and --mute-audio ...) and refuses --user-data-dir; here the command line is
// ours, all of it. playwright-core comes from BROWSER_NODE_DIR (scripts/browser-lib.sh installs it
// into target/browser).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The flags every browser test starts Chromium with (a fresh profile directory is added). */
export const FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
];

const nodeDir = process.env.BROWSER_NODE_DIR || fileURLToPath(new URL('../../target/browser/', import.meta.url));
/** Playwright's `chromium` (from playwright-core). */
export const { chromium } = createRequire(join(nodeDir, 'package.json'))('playwright-core');

/**
 * Starts Chromium with FLAGS, a fresh profile directory and `extra` flags, waits (up to `timeout`
 * ms) for its DevTools address, connects Playwright to it, and returns { browser, context, close }
 * (`context` is the browser's default one; `close()` ends Chromium and removes the profile).
 */
export async function launch({ extra = [], timeout = 20_000 } = {}) {
    const profile = mkdtempSync(join(tmpdir(), 'shockwave-chromium-'));
    const args = [...FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', ...extra, 'about:blank'];
    // its own process group, so close() ends the renderers and helpers with it
    const child = spawn(process.env.CHROMIUM || '/usr/bin/chromium', args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
    });
    let stderr = '';
    let exited = false;
    child.on('exit', () => (exited = true));
    const close = async () => {
        if (!exited) {
            const gone = new Promise((resolve) => child.once('exit', resolve));
            try {
                process.kill(-child.pid, 'SIGTERM');
            } catch {}
            const killer = setTimeout(() => {
                try {
                    process.kill(-child.pid, 'SIGKILL');
                } catch {}
            }, 5000);
            await gone;
            clearTimeout(killer);
        }
        rmSync(profile, { recursive: true, force: true });
    };
    // if the test dies (its last-resort timeout, or `timeout` in the calling script), Chromium goes too
    const kill = () => {
        if (!exited) {
            try {
                process.kill(-child.pid, 'SIGKILL');
            } catch {}
        }
    };
    process.on('exit', kill);
    for (const signal of ['SIGINT', 'SIGTERM']) {
        process.once(signal, () => {
            kill();
            rmSync(profile, { recursive: true, force: true });
            process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
        });
    }
    try {
        const endpoint = await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no DevTools address after ${timeout} ms`)), timeout);
            child.stderr.setEncoding('utf8');
            child.stderr.on('data', (chunk) => {
                stderr += chunk;
                const m = stderr.match(/DevTools listening on (ws:\/\/\S+)/);
                if (m) {
                    clearTimeout(timer);
                    resolve(m[1]);
                }
            });
            child.once('exit', (code, signal) => {
                clearTimeout(timer);
                reject(new Error(`Chromium exited (${code ?? signal}) before listening`));
            });
            child.once('error', (e) => {
                clearTimeout(timer);
                reject(e);
            });
        });
        const browser = await chromium.connectOverCDP(endpoint, { timeout });
        const context = browser.contexts()[0];
        return { browser, context, close, args, stderr: () => stderr };
    } catch (e) {
        await close();
        throw new Error(`${e.message}; Chromium ${args.join(' ')} said:\n${stderr}`);
    }
}
