//! SIMD scans for the parser's runs: 32-byte AVX2 for field values and targets when the CPU has
//! it (detected once), else 16-byte SSE2, which is part of the x86_64 baseline; short runs
//! (names, hosts) use SSE2 only. Other targets use the 8-byte SWAR scans in `tables.rs`.
//!
//! Each scan returns the index of the first byte at or after `i` that is *not* in its class, or
//! `s.len()` (`i` itself when `i` is past the end); the caller judges that byte. The parser's
//! unsafe code is here: the unaligned loads and the calls into `#[target_feature]` bodies,
//! sound because SSE2 is part of the x86_64 baseline and AVX2 is detected before use.
//!
//! Bounds: a block of `n` bytes at `i` is read only when [`fits`] says so, a test that cannot
//! wrap for any `i` (`i + 16 <= len` once did, for `i` near `usize::MAX`) and costs what it
//! did: `len - (n - 1)` is the same for every block of a scan, so the loop compares once per
//! block, and the load's own check is the same expression.

/// Whether `s[i..i + n]` is in bounds (`n >= 1`), for any `i`: no addition that could wrap.
#[inline(always)]
pub(crate) fn fits(s: &[u8], i: usize, n: usize) -> bool {
    i < s.len().saturating_sub(n - 1)
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use super::fits;
    use core::arch::x86_64::*;

    /// Loads `s[i..i + 16]`.
    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn load(s: &[u8], i: usize) -> __m128i {
        assert!(fits(s, i, 16));
        // SAFETY: the assert keeps the 16-byte read inside `s`; `loadu` has no alignment rule.
        unsafe { _mm_loadu_si128(s.as_ptr().add(i).cast()) }
    }

    /// Wraps an SSE2 body in a safe function.
    macro_rules! baseline {
        ($(#[$doc:meta])* $name:ident => $body:ident) => {
            $(#[$doc])*
            #[inline]
            pub(crate) fn $name(s: &[u8], i: usize) -> usize {
                // SAFETY: SSE2 is in the x86_64 baseline, so the target feature is present.
                unsafe { $body(s, i) }
            }
        };
    }

    /// Whether the CPU has AVX2: 0 not looked yet, 1 no, 2 yes.
    static AVX2: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

    #[inline(always)]
    fn has_avx2() -> bool {
        use core::sync::atomic::Ordering::Relaxed;
        match AVX2.load(Relaxed) {
            0 => {
                let yes = std::is_x86_feature_detected!("avx2");
                AVX2.store(if yes { 2 } else { 1 }, Relaxed);
                yes
            }
            v => v == 2,
        }
    }

    /// Field-value bytes `%x20-7E / %x80-FF` (HTAB stops the scan; the caller accepts it).
    #[inline(always)]
    pub(crate) fn scan_value(s: &[u8], i: usize) -> usize {
        if has_avx2() {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { value_avx2(s, i) }
        } else {
            // SAFETY: SSE2 is in the x86_64 baseline.
            unsafe { value_sse2(s, i) }
        }
    }

    /// Request-target bytes `%x21-7E` except `#` (see `tables::TARGET`).
    #[inline(always)]
    pub(crate) fn scan_target(s: &[u8], i: usize) -> usize {
        if has_avx2() {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { target_avx2(s, i) }
        } else {
            // SAFETY: SSE2 is in the x86_64 baseline.
            unsafe { target_sse2(s, i) }
        }
    }

    /// Loads `s[i..i + 32]`.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load32(s: &[u8], i: usize) -> __m256i {
        assert!(fits(s, i, 32));
        // SAFETY: the assert keeps the 32-byte read inside `s`; `loadu` has no alignment rule.
        unsafe { _mm256_loadu_si256(s.as_ptr().add(i).cast()) }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn value_avx2(s: &[u8], mut i: usize) -> usize {
        while fits(s, i, 32) {
            // SAFETY: the loop condition keeps 32 bytes in bounds (load32 checks again).
            let x = unsafe { load32(s, i) };
            let ge20 = _mm256_cmpeq_epi8(_mm256_max_epu8(x, _mm256_set1_epi8(0x20)), x);
            let del = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(0x7f));
            let bad = !(_mm256_movemask_epi8(_mm256_andnot_si256(del, ge20)) as u32);
            if bad != 0 {
                return i + bad.trailing_zeros() as usize;
            }
            i += 32;
        }
        // SAFETY: AVX2 implies SSE2.
        unsafe { value_sse2(s, i) }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn target_avx2(s: &[u8], mut i: usize) -> usize {
        while fits(s, i, 32) {
            // SAFETY: the loop condition keeps 32 bytes in bounds (load32 checks again).
            let x = unsafe { load32(s, i) };
            let ok = _mm256_and_si256(
                _mm256_cmpgt_epi8(x, _mm256_set1_epi8(0x20)),
                _mm256_cmpgt_epi8(_mm256_set1_epi8(0x7f), x),
            );
            let hash = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(b'#' as i8));
            let bad = !(_mm256_movemask_epi8(_mm256_andnot_si256(hash, ok)) as u32);
            if bad != 0 {
                return i + bad.trailing_zeros() as usize;
            }
            i += 32;
        }
        // SAFETY: AVX2 implies SSE2.
        unsafe { target_sse2(s, i) }
    }

    baseline!(
        /// Host bytes `[A-Za-z0-9.-]`; the caller judges the rest with the full table.
        scan_host => host_sse2
    );

    /// Fast accept for the common `Host` value `name[:port]` of at most 16 bytes: `buf[s..e]`
    /// is `[A-Za-z0-9.-]+` optionally followed by `:` and digits. Reads 16 bytes from `s`, so
    /// it needs that much room in `buf` (there always is inside a head, which ends in CRLF CRLF).
    /// `false` means "not shown valid here" (the caller runs the full check), never "invalid".
    #[inline]
    pub(crate) fn short_host_port(buf: &[u8], s: usize, e: usize) -> bool {
        if e <= s || e - s > 16 || !fits(buf, s, 16) {
            return false;
        }
        // SAFETY: SSE2 is in the x86_64 baseline; the bounds were checked above.
        unsafe { short_host_port_sse2(buf, s, e - s) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn short_host_port_sse2(buf: &[u8], s: usize, len: usize) -> bool {
        // SAFETY: the caller checked that 16 bytes from `s` are in `buf` (and `load` checks again).
        let x = unsafe { load(buf, s) };
        let inside = ((1u32 << len) - 1) as i32; // lanes of the value
        let name = _mm_movemask_epi8(_mm_or_si128(alnum_dash(x), _mm_cmpeq_epi8(x, _mm_set1_epi8(b'.' as i8))));
        let colon = _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(b':' as i8))) & inside;
        if colon == 0 {
            return name & inside == inside;
        }
        let at = colon.trailing_zeros();
        let before = (1i32 << at) - 1;
        let after = inside & !before & !(1 << at);
        let digit = _mm_movemask_epi8(_mm_and_si128(
            _mm_cmpgt_epi8(x, _mm_set1_epi8(b'0' as i8 - 1)),
            _mm_cmplt_epi8(x, _mm_set1_epi8(b'9' as i8 + 1)),
        ));
        at > 0 && name & before == before && digit & after == after
    }
    baseline!(
        /// The common field-name bytes `[A-Za-z0-9-]`; the caller continues with the full `tchar`
        /// table from the first other byte (normally the colon).
        scan_name => name_sse2
    );

    /// First index whose bit is set in `bad` (one bit per byte), from a 16-byte block at `i`.
    #[inline(always)]
    fn first(i: usize, bad: i32) -> usize {
        i + (bad as u32).trailing_zeros() as usize
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn value_sse2(s: &[u8], mut i: usize) -> usize {
        while fits(s, i, 16) {
            // SAFETY: the loop condition keeps 16 bytes in bounds (load checks again).
            let x = unsafe { load(s, i) };
            let ge20 = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x20)), x);
            let del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f));
            let bad = !_mm_movemask_epi8(_mm_andnot_si128(del, ge20)) & 0xffff;
            if bad != 0 {
                return first(i, bad);
            }
            i += 16;
        }
        crate::h1::tables::scan_value(s, i)
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn target_sse2(s: &[u8], mut i: usize) -> usize {
        while fits(s, i, 16) {
            // SAFETY: the loop condition keeps 16 bytes in bounds (load checks again).
            let x = unsafe { load(s, i) };
            // signed compares: bytes >= 0x80 are negative and fail the first test
            let ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x20)), _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f)));
            let hash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'#' as i8));
            let bad = !_mm_movemask_epi8(_mm_andnot_si128(hash, ok)) & 0xffff;
            if bad != 0 {
                return first(i, bad);
            }
            i += 16;
        }
        crate::h1::tables::scan_target(s, i)
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn host_sse2(s: &[u8], mut i: usize) -> usize {
        while fits(s, i, 16) {
            // SAFETY: the loop condition keeps 16 bytes in bounds (load checks again).
            let x = unsafe { load(s, i) };
            let ok = _mm_or_si128(alnum_dash(x), _mm_cmpeq_epi8(x, _mm_set1_epi8(b'.' as i8)));
            let bad = !_mm_movemask_epi8(ok) & 0xffff;
            if bad != 0 {
                return first(i, bad);
            }
            i += 16;
        }
        i
    }

    /// Lanes holding `[A-Za-z0-9-]`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn alnum_dash(x: __m128i) -> __m128i {
        let lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
        let alpha = _mm_and_si128(
            _mm_cmpgt_epi8(lower, _mm_set1_epi8(b'a' as i8 - 1)),
            _mm_cmplt_epi8(lower, _mm_set1_epi8(b'z' as i8 + 1)),
        );
        let digit = _mm_and_si128(
            _mm_cmpgt_epi8(x, _mm_set1_epi8(b'0' as i8 - 1)),
            _mm_cmplt_epi8(x, _mm_set1_epi8(b'9' as i8 + 1)),
        );
        _mm_or_si128(_mm_or_si128(alpha, digit), _mm_cmpeq_epi8(x, _mm_set1_epi8(b'-' as i8)))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn name_sse2(s: &[u8], mut i: usize) -> usize {
        while fits(s, i, 16) {
            // SAFETY: the loop condition keeps 16 bytes in bounds (load checks again).
            let x = unsafe { load(s, i) };
            let bad = !_mm_movemask_epi8(alnum_dash(x)) & 0xffff;
            if bad != 0 {
                return first(i, bad);
            }
            i += 16;
        }
        i
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    pub(crate) use crate::h1::tables::{scan_target, scan_value};

    pub(crate) fn scan_name(_s: &[u8], i: usize) -> usize {
        i
    }

    pub(crate) fn scan_host(_s: &[u8], i: usize) -> usize {
        i
    }

    pub(crate) fn short_host_port(_buf: &[u8], _s: usize, _e: usize) -> bool {
        false
    }
}

pub(crate) use imp::{scan_host, scan_name, scan_target, scan_value, short_host_port};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h1::tables::{FIELD_VALUE, TARGET, TCHAR};

    #[test]
    fn short_host_port_only_accepts_valid_hosts() {
        let cases = [
            ("localhost", true),
            ("127.0.0.1:8080", true),
            ("a-b.c:1", true),
            ("a:", true),
            ("0123456789abcdef", true),
            (":80", false),
            ("a:b", false),
            ("a::1", false),
            ("a b", false),
            ("a@b", false),
            ("a_b", false), // valid reg-name, but outside the fast class: full check decides
            ("[::1]:80", false),
        ];
        for (h, fast) in cases {
            let mut buf = h.as_bytes().to_vec();
            buf.extend_from_slice(b"\r\nX: y\r\n\r\n.......");
            assert_eq!(short_host_port(&buf, 0, h.len()), fast, "{h}");
            if fast {
                assert!(crate::http::uri::is_host_port(h.as_bytes(), false), "{h}");
            }
        }
        assert!(!short_host_port(b"localhost", 0, 9), "no room for the 16-byte load");
    }

    /// Regression: `i + 16 <= len` wrapped for `i` near `usize::MAX` in release builds, so a
    /// safe call could load bytes before the slice.
    #[test]
    fn a_start_past_the_end_reads_nothing() {
        let big = vec![b'a'; 256];
        let s = &big[64..];
        for i in [s.len(), s.len() + 1, usize::MAX - 40, usize::MAX - 8, usize::MAX] {
            assert_eq!(scan_target(s, i), i);
            assert_eq!(scan_value(s, i), i);
            assert_eq!(scan_name(s, i), i);
            assert_eq!(scan_host(s, i), i);
            assert_eq!(crate::h1::tables::scan_target(s, i), i);
            assert_eq!(crate::h1::tables::scan_value(s, i), i);
        }
        assert!(!short_host_port(s, usize::MAX - 8, usize::MAX - 2));
        assert!(!short_host_port(s, s.len() - 4, s.len()));
        assert!(!fits(s, usize::MAX - 8, 16) && fits(s, s.len() - 16, 16) && !fits(s, s.len() - 15, 16));
        assert!(!fits(&s[..15], 0, 16) && fits(&s[..16], 0, 16) && !fits(&[], 0, 1));
    }

    #[test]
    fn scans_agree_with_the_tables_at_every_position_and_length() {
        for len in [1usize, 15, 16, 17, 31, 33, 40] {
            for bad in 0u8..=255 {
                for pos in 0..len {
                    let mut v = vec![b'a'; len];
                    v[pos] = bad;
                    let want_v = if FIELD_VALUE[bad as usize] && bad != b'\t' { len } else { pos };
                    assert_eq!(scan_value(&v, 0), want_v, "value {bad:#x} at {pos}/{len}");
                    let want_t = if TARGET[bad as usize] { len } else { pos };
                    assert_eq!(scan_target(&v, 0), want_t, "target {bad:#x} at {pos}/{len}");
                    // scan_name/scan_host may stop early (they know a common subset), never late
                    let n = scan_name(&v, 0);
                    assert!(n <= if TCHAR[bad as usize] { len } else { pos });
                    assert!(v[..n].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-'));
                    let h = scan_host(&v, 0);
                    assert!(v[..h].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.'));
                    assert!(h >= n.min(pos));
                }
            }
        }
    }
}
