//! How much of a body the parser accepts: [`Limits`], a plain struct with builder-style setters.

/// 100 parts: a large HTML form, far below what would make the per-part work a denial of service.
const DEFAULT_MAX_PARTS: usize = 100;
/// 8 KiB per part's header block, the size of one of nginx's `large_client_header_buffers`.
const DEFAULT_MAX_PART_HEADER_BYTES: usize = 8 * 1024;
/// 64 KiB for a field without a filename, read whole into memory by [`Part::text`](super::Part::text).
const DEFAULT_MAX_FIELD_BYTES: u64 = 64 * 1024;
/// 1 GiB per file: files stream, so this guards the disk rather than memory.
const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;
/// 1 GiB for the whole body, preamble and headers included.
const DEFAULT_MAX_TOTAL_BYTES: u64 = 1 << 30;

/// How much of a `multipart/form-data` body the parser accepts; exceeding any gives an error
/// with [`status`](super::MultipartError::status) 413 that names the setting.
///
/// ```
/// use shockwave::multipart::Limits;
///
/// let limits = Limits::default().max_parts(10).max_file_bytes(20 << 20);
/// assert_eq!(limits.max_parts, 10);
/// assert_eq!(limits.max_field_bytes, 64 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most parts in one body (default 100).
    pub max_parts: usize,
    /// The most bytes of one part's header lines, their CRLFs and the empty line's included
    /// (default 8 KiB). Padding after a boundary has the same limit.
    pub max_part_header_bytes: usize,
    /// The most body bytes of a part without a filename, a form field (default 64 KiB).
    pub max_field_bytes: u64,
    /// The most body bytes of a part with a filename, a file (default 1 GiB).
    pub max_file_bytes: u64,
    /// The most bytes read from the body in all (default 1 GiB).
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_parts: DEFAULT_MAX_PARTS,
            max_part_header_bytes: DEFAULT_MAX_PART_HEADER_BYTES,
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
        }
    }
}

impl Limits {
    /// Sets [`max_parts`](Limits::max_parts).
    ///
    /// ```
    /// assert_eq!(shockwave::multipart::Limits::default().max_parts(3).max_parts, 3);
    /// ```
    pub fn max_parts(mut self, n: usize) -> Self {
        self.max_parts = n;
        self
    }

    /// Sets [`max_part_header_bytes`](Limits::max_part_header_bytes).
    ///
    /// ```
    /// let l = shockwave::multipart::Limits::default().max_part_header_bytes(1024);
    /// assert_eq!(l.max_part_header_bytes, 1024);
    /// ```
    pub fn max_part_header_bytes(mut self, n: usize) -> Self {
        self.max_part_header_bytes = n;
        self
    }

    /// Sets [`max_field_bytes`](Limits::max_field_bytes).
    ///
    /// ```
    /// assert_eq!(shockwave::multipart::Limits::default().max_field_bytes(10).max_field_bytes, 10);
    /// ```
    pub fn max_field_bytes(mut self, n: u64) -> Self {
        self.max_field_bytes = n;
        self
    }

    /// Sets [`max_file_bytes`](Limits::max_file_bytes).
    ///
    /// ```
    /// assert_eq!(shockwave::multipart::Limits::default().max_file_bytes(10).max_file_bytes, 10);
    /// ```
    pub fn max_file_bytes(mut self, n: u64) -> Self {
        self.max_file_bytes = n;
        self
    }

    /// Sets [`max_total_bytes`](Limits::max_total_bytes).
    ///
    /// ```
    /// assert_eq!(shockwave::multipart::Limits::default().max_total_bytes(10).max_total_bytes, 10);
    /// ```
    pub fn max_total_bytes(mut self, n: u64) -> Self {
        self.max_total_bytes = n;
        self
    }
}
