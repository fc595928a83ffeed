//! Streaming encoders: input bytes in, compressed bytes appended to a `Vec`, with a sync
//! flush (everything so far decodable by the client) and a finish.
//!
//! gzip and deflate run on one `flate2::Compress` (raw deflate for gzip, with the 10-byte
//! header and CRC-32 trailer written here; zlib-wrapped by flate2 for `deflate`, as RFC 9110
//! §8.4.1.2 defines it). It is `reset` between responses rather than rebuilt, so a worker keeps its
//! deflate state (a few hundred KiB) and compressed responses after the first allocate
//! nothing (tests/alloc.rs). brotli's encoder state is built per response (the crate offers no reset).

use super::Coding;
#[cfg(feature = "compress")]
use flate2::{Compress as Deflater, Compression, Crc, FlushCompress, Status};

/// At least this much free space is offered to the deflater per call.
#[cfg(feature = "compress")]
const SPARE: usize = 8 * 1024;

/// Brotli window: 2^18 = 256 KiB, enough for dynamic responses and a bounded ring buffer
/// per stream (the default 4 MiB window would cost 16× the memory for a few % on huge bodies).
#[cfg(feature = "brotli")]
const BROTLI_LGWIN: u32 = 18;

/// How far a flush goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Flush {
    /// Compress what is useful now; keep the rest for better ratios.
    None,
    /// Emit everything written so far, decodable by the client (a sync flush).
    Sync,
    /// End the stream (trailer included).
    Finish,
}

/// One response's encoder (gzip state is reusable, see the module doc).
pub(crate) enum Encoder {
    #[cfg(feature = "compress")]
    Flate { deflater: Deflater, level: u32, gzip: bool, crc: Crc, started: bool },
    #[cfg(feature = "brotli")]
    Brotli(Option<Box<brotli::CompressorWriter<Vec<u8>>>>),
}

impl Encoder {
    /// An encoder for `coding`: `level` is gzip's and deflate's 0–9, `quality` brotli's 0–11.
    /// `reuse` is the encoder of an earlier response, kept when it can serve this one;
    /// `size_hint` the body's length when known.
    pub(crate) fn new(
        coding: Coding,
        level: u32,
        quality: u32,
        reuse: Option<Encoder>,
        size_hint: Option<u64>,
    ) -> Encoder {
        let _ = (level, quality, &reuse, size_hint);
        match coding {
            #[cfg(feature = "compress")]
            Coding::Gzip | Coding::Deflate => {
                let gzip = coding == Coding::Gzip;
                match reuse {
                    // the zlib wrapper is fixed at creation: raw deflate for gzip (framed
                    // here), zlib's header and Adler-32 trailer by flate2 for `deflate`
                    Some(Encoder::Flate { mut deflater, level: l, gzip: g, .. }) if l == level && g == gzip => {
                        deflater.reset();
                        Encoder::flate(deflater, level, gzip)
                    }
                    _ => Encoder::flate(Deflater::new(Compression::new(level), !gzip), level, gzip),
                }
            }
            #[cfg(feature = "brotli")]
            Coding::Brotli => {
                // a size hint (a buffered body's length) lets brotli size its tables to the input
                let params = brotli::enc::BrotliEncoderParams {
                    quality: quality.min(11) as i32,
                    lgwin: BROTLI_LGWIN as i32,
                    size_hint: size_hint.map_or(0, |n| n.min(usize::MAX as u64) as usize),
                    ..Default::default()
                };
                Encoder::Brotli(Some(Box::new(brotli::CompressorWriter::with_params(Vec::new(), 4096, &params))))
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!("{coding:?} is offered only when its feature is on"),
        }
    }

    #[cfg(feature = "compress")]
    fn flate(deflater: Deflater, level: u32, gzip: bool) -> Encoder {
        Encoder::Flate { deflater, level, gzip, crc: Crc::new(), started: false }
    }

    /// Compresses `input` onto the end of `out`, flushing as `flush` says.
    pub(crate) fn encode(&mut self, input: &[u8], out: &mut Vec<u8>, flush: Flush) {
        match self {
            #[cfg(feature = "compress")]
            Encoder::Flate { deflater, gzip, crc, started, .. } => {
                if !*started {
                    *started = true;
                    if *gzip {
                        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown (RFC 1952 §2.3)
                        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
                    }
                }
                if *gzip {
                    crc.update(input);
                }
                deflate(deflater, input, out, flush);
                if flush == Flush::Finish && *gzip {
                    out.extend_from_slice(&crc.sum().to_le_bytes());
                    out.extend_from_slice(&crc.amount().to_le_bytes());
                }
            }
            #[cfg(feature = "brotli")]
            Encoder::Brotli(w) => {
                use std::io::Write;
                let Some(mut enc) = w.take() else { return };
                // writes into a Vec cannot fail
                let _ = enc.write_all(input);
                match flush {
                    Flush::None => {}
                    Flush::Sync => {
                        let _ = enc.flush();
                    }
                    Flush::Finish => {
                        out.extend_from_slice(&enc.into_inner());
                        return;
                    }
                }
                out.extend_from_slice(enc.get_ref());
                enc.get_mut().clear();
                *w = Some(enc);
            }
        }
    }
}

/// Runs the deflater over `input` until it is consumed and, for a flush, until it has
/// nothing more to emit.
#[cfg(feature = "compress")]
fn deflate(d: &mut Deflater, mut input: &[u8], out: &mut Vec<u8>, flush: Flush) {
    let mode = match flush {
        Flush::None => FlushCompress::None,
        Flush::Sync => FlushCompress::Sync,
        Flush::Finish => FlushCompress::Finish,
    };
    loop {
        out.reserve(SPARE.max(input.len() / 4));
        let spare = out.capacity() - out.len();
        let before = d.total_in();
        let before_out = out.len();
        // only a corrupt state errors, which a deflater we drive alone never reaches
        let status = d.compress_vec(input, out, mode).unwrap_or(Status::StreamEnd);
        input = &input[(d.total_in() - before) as usize..];
        let filled = out.len() - before_out == spare;
        match flush {
            Flush::Finish if status == Status::StreamEnd => return,
            Flush::Finish => {}
            _ if input.is_empty() && !filled => return,
            _ => {}
        }
        if status == Status::StreamEnd {
            return;
        }
    }
}
