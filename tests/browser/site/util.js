// Helpers for app.js (a second script, loaded before it): hashing, medians and bounded waits.
'use strict';

/** The lowercase hex SHA-256 of an ArrayBuffer or typed array. */
async function sha256hex(data) {
    const digest = await crypto.subtle.digest('SHA-256', data);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The median of a list of numbers. */
function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Resolves with `promise`, or rejects after `ms` saying what was awaited. */
function within(ms, what, promise) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next `name` event on `target` (an `error` event rejects). */
function once(target, name) {
    return new Promise((resolve, reject) => {
        target.addEventListener(name, resolve, { once: true });
        target.addEventListener('error', () => reject(new Error(`error event while waiting for ${name}`)), {
            once: true,
        });
    });
}

/** Throws `what` (with the value got) unless `ok`. */
function check(ok, what, got) {
    if (!ok) throw new Error(got === undefined ? what : `${what}: got ${JSON.stringify(got)}`);
}
