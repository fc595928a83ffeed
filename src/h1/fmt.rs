//! Small formatting helpers for the encoder (no `fmt` machinery on the hot path).

/// Appends the decimal digits of `n`.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    if n < 100 {
        // body lengths and status codes are mostly small
        if n >= 10 {
            out.push(b'0' + (n / 10) as u8);
        }
        out.push(b'0' + (n % 10) as u8);
        return;
    }
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends the lowercase hexadecimal digits of `n` (chunk sizes).
#[inline]
pub(crate) fn push_hex(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b"0123456789abcdef"[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers() {
        let mut v = Vec::new();
        for n in [0, 7, 10, 99, 100, 12345] {
            super::push_u64(&mut v, n);
            v.push(b',');
        }
        super::push_u64(&mut v, 0);
        v.push(b' ');
        super::push_u64(&mut v, u64::MAX);
        v.push(b' ');
        super::push_hex(&mut v, 0x1f);
        assert_eq!(v, b"0,7,10,99,100,12345,0 18446744073709551615 1f");
    }
}
