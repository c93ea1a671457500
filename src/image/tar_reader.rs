//! A small, bounded tar reader for image archives and layers.
//!
//! The `tar` crate reads PAX extension records and GNU long names into memory without a
//! limit, so a layer that declares a 1 GB PAX header (a few KB once gzipped) would make us
//! allocate 1 GB. This reader keeps every metadata record under a fixed cap, never
//! allocates by a size taken from the input, and only ever reads forward: entry data is
//! skipped (by seeking for archives on disk, by reading through for decompressed layers).

use std::io::{self, BufRead, BufReader, Read, Seek};

/// Largest PAX extended header we accept (real ones are a few hundred bytes).
pub const MAX_PAX_BYTES: u64 = 1024 * 1024;
/// Largest GNU long name / long link name we accept (Linux PATH_MAX is 4096).
pub const MAX_LONG_NAME: u64 = 64 * 1024;

/// What a tar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    Hardlink,
    /// Character and block devices, FIFOs and anything else that is not a file.
    Other,
}

/// One entry's header, after PAX and GNU long-name records are applied.
#[derive(Debug, Clone)]
pub struct Header {
    pub path: Vec<u8>,
    pub link: Vec<u8>,
    pub kind: EntryType,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Bytes of data stored in the archive for this entry.
    pub size: u64,
    /// Offset of the entry's data from the start of the stream.
    pub data_offset: u64,
}

/// A byte source that can move forward without returning the bytes.
pub trait Skip: Read {
    fn skip(&mut self, n: u64) -> io::Result<()>;
}

/// A file on disk behind a buffer: skipping seeks.
pub struct SeekSkip<R: Read + Seek>(pub BufReader<R>);

impl<R: Read + Seek> Read for SeekSkip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Seek> Skip for SeekSkip<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = i64::try_from(n).map_err(|_| invalid("entry size is too large"))?;
        self.0.seek_relative(n)
    }
}

/// A stream (a decompressor): skipping reads through, so hashes still see every byte.
pub struct StreamSkip<R: BufRead>(pub R);

impl<R: BufRead> Read for StreamSkip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: BufRead> Skip for StreamSkip<R> {
    fn skip(&mut self, mut n: u64) -> io::Result<()> {
        while n > 0 {
            let available = self.0.fill_buf()?;
            if available.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated: the stream ends inside an entry",
                ));
            }
            let take = available
                .len()
                .min(usize::try_from(n).unwrap_or(usize::MAX));
            self.0.consume(take);
            n -= take as u64;
        }
        Ok(())
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn truncated() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "truncated: the stream ends inside a tar header",
    )
}

/// Reads tar headers one after another.
pub struct TarReader<R: Skip> {
    inner: R,
    /// Bytes consumed from the start of the stream.
    pos: u64,
    /// Data (plus padding) of the current entry not read yet.
    remaining: u64,
    padding: u64,
    done: bool,
}

impl<R: Skip> TarReader<R> {
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            pos: 0,
            remaining: 0,
            padding: 0,
            done: false,
        }
    }

    /// Gives the underlying reader back (for draining what follows the archive).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The underlying reader (to ask it why it failed).
    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Reads up to `buf.len()` bytes of the current entry's data.
    pub fn read_data(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let Some(slice) = buf.get_mut(..want) else {
            return Ok(0);
        };
        let n = self.inner.read(slice)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated: the stream ends inside an entry",
            ));
        }
        self.remaining -= n as u64;
        self.pos += n as u64;
        Ok(n)
    }

    /// Reads the current entry's data, at most `limit` bytes; the rest is skipped later.
    pub fn read_data_limited(&mut self, limit: u64) -> io::Result<Vec<u8>> {
        let want = self.remaining.min(limit);
        let mut out = Vec::with_capacity(usize::try_from(want.min(64 * 1024)).unwrap_or(0));
        let mut chunk = [0u8; 8192];
        while (out.len() as u64) < want {
            let left = usize::try_from(want - out.len() as u64).unwrap_or(usize::MAX);
            let take = left.min(chunk.len());
            let Some(slot) = chunk.get_mut(..take) else {
                break;
            };
            let n = self.read_data(slot)?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
        Ok(out)
    }

    fn skip_rest(&mut self) -> io::Result<()> {
        let n = self.remaining + self.padding;
        if n > 0 {
            self.inner.skip(n)?;
            self.pos += n;
        }
        self.remaining = 0;
        self.padding = 0;
        Ok(())
    }

    /// Reads one 512-byte block; `Ok(false)` at a clean end of stream.
    fn read_block(&mut self, block: &mut [u8; 512]) -> io::Result<bool> {
        let mut filled = 0;
        while filled < block.len() {
            let Some(rest) = block.get_mut(filled..) else {
                break;
            };
            let n = self.inner.read(rest)?;
            if n == 0 {
                if filled == 0 {
                    return Ok(false);
                }
                return Err(truncated());
            }
            filled += n;
        }
        self.pos += 512;
        Ok(true)
    }

    /// Reads a metadata record (PAX, long name) under a cap.
    fn read_record(&mut self, size: u64, cap: u64, what: &str) -> io::Result<Vec<u8>> {
        if size > cap {
            return Err(invalid(format!(
                "{what} of {size} bytes is larger than the {cap}-byte limit"
            )));
        }
        self.remaining = size;
        self.padding = pad(size);
        let data = self.read_data_limited(size)?;
        self.skip_rest()?;
        Ok(data)
    }

    /// The next entry, or `None` at the end of the archive.
    pub fn next_entry(&mut self) -> io::Result<Option<Header>> {
        if self.done {
            return Ok(None);
        }
        self.skip_rest()?;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut block = [0u8; 512];
        loop {
            if !self.read_block(&mut block)? {
                // A stream without the two zero blocks: accept a clean end at a header boundary.
                self.done = true;
                return Ok(None);
            }
            if block.iter().all(|b| *b == 0) {
                // End of archive (the second zero block is optional in practice).
                self.done = true;
                return Ok(None);
            }
            verify_checksum(&block)?;
            let size = numeric(field(&block, 124, 12))?;
            let flag = block.get(156).copied().unwrap_or(b'0');
            match flag {
                b'x' => {
                    let data = self.read_record(size, MAX_PAX_BYTES, "PAX header")?;
                    pax = parse_pax(&data)?;
                    continue;
                }
                b'g' => {
                    // Global PAX headers carry nothing we use.
                    self.read_record(size, MAX_PAX_BYTES, "global PAX header")?;
                    continue;
                }
                b'L' => {
                    let data = self.read_record(size, MAX_LONG_NAME, "GNU long name")?;
                    long_name = Some(trim_nul(&data).to_vec());
                    continue;
                }
                b'K' => {
                    let data = self.read_record(size, MAX_LONG_NAME, "GNU long link name")?;
                    long_link = Some(trim_nul(&data).to_vec());
                    continue;
                }
                _ => {}
            }
            let ustar = field(&block, 257, 5) == b"ustar";
            let mut path = trim_nul(field(&block, 0, 100)).to_vec();
            if ustar && field(&block, 263, 2) == b"00" {
                // POSIX ustar: a prefix field (GNU uses these bytes for other things).
                let prefix = trim_nul(field(&block, 345, 155));
                if !prefix.is_empty() {
                    let mut joined = prefix.to_vec();
                    joined.push(b'/');
                    joined.extend_from_slice(&path);
                    path = joined;
                }
            }
            let mut header = Header {
                path,
                link: trim_nul(field(&block, 157, 100)).to_vec(),
                kind: match flag {
                    b'0' | 0 | b'7' => EntryType::File,
                    b'1' => EntryType::Hardlink,
                    b'2' => EntryType::Symlink,
                    b'5' => EntryType::Dir,
                    // Sparse files keep their data layout; we count them as files.
                    b'S' => EntryType::File,
                    _ => EntryType::Other,
                },
                mode: u32::try_from(numeric(field(&block, 100, 8))? & 0o7777).unwrap_or(0),
                uid: numeric(field(&block, 108, 8))?,
                gid: numeric(field(&block, 116, 8))?,
                size,
                data_offset: self.pos,
            };
            // Old tars mark directories only with a trailing slash.
            if header.kind == EntryType::File && header.path.ends_with(b"/") {
                header.kind = EntryType::Dir;
            }
            if let Some(name) = long_name.take() {
                header.path = name;
            }
            if let Some(link) = long_link.take() {
                header.link = link;
            }
            for (key, value) in pax.drain(..) {
                match key.as_slice() {
                    b"path" => header.path = value,
                    b"linkpath" => header.link = value,
                    b"size" => header.size = pax_number(&value, "size")?,
                    b"uid" => header.uid = pax_number(&value, "uid")?,
                    b"gid" => header.gid = pax_number(&value, "gid")?,
                    _ => {}
                }
            }
            // Links and directories store no data, whatever the size field says.
            let stored = match header.kind {
                EntryType::Hardlink | EntryType::Symlink | EntryType::Dir => 0,
                _ => header.size,
            };
            if header.kind != EntryType::File {
                header.size = 0;
            }
            self.remaining = stored;
            self.padding = pad(stored);
            return Ok(Some(header));
        }
    }
}

fn pad(size: u64) -> u64 {
    (512 - size % 512) % 512
}

fn field(block: &[u8; 512], start: usize, len: usize) -> &[u8] {
    block.get(start..start + len).unwrap_or_default()
}

fn trim_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|b| *b == 0) {
        Some(end) => bytes.get(..end).unwrap_or_default(),
        None => bytes,
    }
}

fn verify_checksum(block: &[u8; 512]) -> io::Result<()> {
    let stored = numeric(field(block, 148, 8))?;
    let mut sum: u64 = 0;
    for (i, b) in block.iter().enumerate() {
        sum += if (148..156).contains(&i) {
            u64::from(b' ')
        } else {
            u64::from(*b)
        };
    }
    if sum != stored {
        return Err(invalid(
            "not a tar archive, or a corrupt one: a header checksum does not match",
        ));
    }
    Ok(())
}

/// Octal (ASCII, space/NUL padded) or GNU base-256 numbers.
fn numeric(bytes: &[u8]) -> io::Result<u64> {
    if let Some(first) = bytes.first() {
        if first & 0x80 != 0 {
            let mut value: u64 = u64::from(first & 0x7f);
            for b in bytes.get(1..).unwrap_or_default() {
                value = value
                    .checked_mul(256)
                    .and_then(|v| v.checked_add(u64::from(*b)))
                    .ok_or_else(|| invalid("a numeric tar header field overflows"))?;
            }
            return Ok(value);
        }
    }
    let text = trim_nul(bytes);
    let mut value: u64 = 0;
    let mut seen = false;
    for b in text {
        match b {
            b'0'..=b'7' => {
                seen = true;
                value = value
                    .checked_mul(8)
                    .and_then(|v| v.checked_add(u64::from(b - b'0')))
                    .ok_or_else(|| invalid("a numeric tar header field overflows"))?;
            }
            b' ' if !seen => {}
            b' ' => break,
            _ => {
                return Err(invalid(
                    "not a tar archive: a numeric header field is not octal",
                ))
            }
        }
    }
    Ok(value)
}

fn pax_number(value: &[u8], key: &str) -> io::Result<u64> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(|| invalid(format!("PAX header: `{key}` is not a number")))
}

/// `"<len> <key>=<value>\n"` records.
fn parse_pax(mut data: &[u8]) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if data.iter().all(|b| *b == 0) {
            break;
        }
        let space = data
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| invalid("PAX header: a record has no length"))?;
        let len: usize = std::str::from_utf8(data.get(..space).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("PAX header: a record length is not a number"))?;
        let record = data
            .get(space + 1..len)
            .ok_or_else(|| invalid("PAX header: a record is longer than the header"))?;
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        let eq = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or_else(|| invalid("PAX header: a record has no `=`"))?;
        out.push((
            record.get(..eq).unwrap_or_default().to_vec(),
            record.get(eq + 1..).unwrap_or_default().to_vec(),
        ));
        data = data.get(len..).unwrap_or_default();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(bytes: &[u8]) -> io::Result<Vec<Header>> {
        let mut reader = TarReader::new(StreamSkip(bytes));
        let mut out = Vec::new();
        while let Some(h) = reader.next_entry()? {
            out.push(h);
        }
        Ok(out)
    }

    #[test]
    fn reads_what_the_tar_crate_writes() -> io::Result<()> {
        let mut builder = tar::Builder::new(Vec::new());
        let long = format!("{}/file.txt", "d".repeat(150));
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o640);
        h.set_uid(1000);
        builder.append_data(&mut h, &long, &b"hello"[..])?;
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        builder.append_link(&mut h, "link", "/etc/passwd")?;
        let bytes = builder.into_inner()?;
        let got = entries(&bytes)?;
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].path, long.as_bytes());
        assert_eq!(got[0].mode, 0o640);
        assert_eq!(got[0].uid, 1000);
        assert_eq!(got[0].size, 5);
        assert_eq!(got[1].kind, EntryType::Symlink);
        assert_eq!(got[1].link, b"/etc/passwd");
        Ok(())
    }

    #[test]
    fn rejects_a_huge_pax_header_without_allocating_it() {
        let mut block = [0u8; 512];
        block[..4].copy_from_slice(b"pax\0");
        block[100..108].copy_from_slice(b"0000644\0");
        block[108..116].copy_from_slice(b"0000000\0");
        block[116..124].copy_from_slice(b"0000000\0");
        block[124..136].copy_from_slice(b"77777777777\0");
        block[156] = b'x';
        block[257..263].copy_from_slice(b"ustar\0");
        block[263..265].copy_from_slice(b"00");
        block[148..156].copy_from_slice(b"        ");
        let sum: u32 = block.iter().map(|b| u32::from(*b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let err = entries(&block)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("PAX header of 8589934591 bytes"), "{err}");
    }

    #[test]
    fn truncated_header_is_an_error() {
        let err = entries(&[1u8; 100])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("truncated"), "{err}");
    }
}
