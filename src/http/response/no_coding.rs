//! Without features `compress` and `brotli`: the compression hooks of `Response`, doing
//! nothing (see `coding.rs` for what they do with them).

use super::Response;

#[derive(Default)]
pub(crate) struct Slot;

impl Slot {
    #[inline]
    pub(crate) fn reset(&mut self) {}
}

impl Response {
    #[inline]
    pub(super) fn coding_buffered(&mut self) {}

    #[inline]
    pub(super) fn coding_unframed(&self) -> bool {
        false
    }

    #[inline]
    pub(super) fn coding_start_stream(&mut self) {}

    #[inline]
    pub(super) fn coding_stream(&mut self, _sync: bool) {}

    #[inline]
    pub(super) fn coding_end_stream(&mut self) {}
}
