//! The response side of compression (features `compress` / `brotli`): the hooks `Response`
//! calls while it encodes, which apply the [`Plan`] the `Compress` middleware left.
//!
//! A buffered body is compressed once, in `finish`; a streamed one chunk by chunk as
//! `send_pending` moves it out, flushed on `flush()`, finished in `finish`. Nothing here runs
//! for a response without a plan, so the plain path stays allocation-free.

use super::Response;
use crate::compress::encode::{Encoder, Flush};
use crate::compress::{decide, Coding, Decision, Plan};

/// Compression state a worker's `Response` keeps: the current response's plan and, across
/// responses, the gzip encoder state and a scratch buffer, so they are allocated once.
#[derive(Default)]
pub(crate) struct Slot {
    plan: Option<Plan>,
    /// Streaming through `encoder`.
    active: bool,
    /// A `HEAD` answer whose `GET` would be compressed: no `Content-Length`.
    unframed: bool,
    encoder: Option<Encoder>,
    scratch: Vec<u8>,
}

impl Slot {
    pub(crate) fn reset(&mut self) {
        self.plan = None;
        self.active = false;
        self.unframed = false;
        if self.scratch.capacity() > 256 * 1024 {
            self.scratch = Vec::new();
        }
    }
}

impl Response {
    /// Set by the middleware before the handler runs.
    pub(crate) fn plan_coding(&mut self, plan: Plan) {
        self.coding.plan = Some(plan);
    }

    /// Decides for this response, given the size of its body if known; on `Compress`, the
    /// headers say so already.
    fn coding_decide(&mut self, size: Option<u64>) -> Option<Coding> {
        let plan = self.coding.plan.take()?;
        let d = decide(&plan, self.status, |n| self.header_bytes(n), size);
        if d != Decision::Skip {
            self.vary_accept_encoding();
        }
        let Decision::Compress(c) = d else { return None };
        self.set_header("Content-Encoding", c.name());
        self.remove_header("content-length");
        if let Some(tag) = self.header_bytes("etag").filter(|t| t.starts_with(b"\"")) {
            let weak = [b"W/", tag].concat();
            self.set_header("ETag", weak);
        }
        let reuse = self.coding.encoder.take();
        self.coding.encoder = Some(Encoder::new(c, plan.s.level, plan.s.quality, reuse, size));
        Some(c)
    }

    /// Adds `Accept-Encoding` to `Vary` unless it (or `*`) is there.
    fn vary_accept_encoding(&mut self) {
        let mut had = false;
        for (i, &(s, ne)) in self.lines.iter().enumerate() {
            if !self.headers[s as usize..ne as usize].eq_ignore_ascii_case(b"vary") {
                continue;
            }
            had = true;
            let line = &self.headers[ne as usize + 2..self.line_end(i) - 2];
            if crate::h1::framing::list(line).any(|t| t == b"*" || t.eq_ignore_ascii_case(b"accept-encoding")) {
                return;
            }
        }
        if had {
            let old = self.header_all_bytes("vary").collect::<Vec<_>>().join(&b", "[..]);
            self.set_header("Vary", [&old[..], b", Accept-Encoding"].concat());
        } else {
            self.push_header("Vary", b"Accept-Encoding");
        }
    }

    fn header_all_bytes<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.lines.iter().enumerate().filter_map(move |(i, &(s, ne))| {
            let n = &self.headers[s as usize..ne as usize];
            n.eq_ignore_ascii_case(name.as_bytes()).then(|| &self.headers[ne as usize + 2..self.line_end(i) - 2])
        })
    }

    /// `finish` of a response that was not streamed: compresses the whole body.
    pub(super) fn coding_buffered(&mut self) {
        if self.coding.plan.is_none() {
            return;
        }
        let size = if self.ctx.head { self.declared_len.unwrap_or(self.head_bytes) } else { self.body.len() as u64 };
        if self.coding_decide(Some(size)).is_none() {
            return;
        }
        if self.ctx.head {
            self.coding.unframed = true;
            return;
        }
        self.coding_encode(Flush::Finish);
    }

    /// Whether a `HEAD` answer goes without `Content-Length`.
    pub(super) fn coding_unframed(&self) -> bool {
        self.coding.unframed
    }

    /// The head of a stream is about to go out: decide (the length is unknown unless the
    /// handler declared one).
    pub(super) fn coding_start_stream(&mut self) {
        if self.coding.plan.is_some() {
            let declared = self.declared_len;
            self.coding.active = self.coding_decide(declared).is_some();
        }
    }

    /// Compresses the pending stream bytes in place; `sync` on `flush()`.
    pub(super) fn coding_stream(&mut self, sync: bool) {
        if self.coding.active {
            self.coding_encode(if sync { Flush::Sync } else { Flush::None });
        }
    }

    /// The end of a streamed body: the encoder's last bytes.
    pub(super) fn coding_end_stream(&mut self) {
        if self.coding.active {
            self.coding_encode(Flush::Finish);
            self.coding.active = false;
        }
    }

    /// Replaces the pending body by its compressed form.
    fn coding_encode(&mut self, flush: Flush) {
        let Some(enc) = &mut self.coding.encoder else { return };
        let out = &mut self.coding.scratch;
        out.clear();
        enc.encode(&self.body, out, flush);
        std::mem::swap(&mut self.body, out);
        out.clear();
    }
}
