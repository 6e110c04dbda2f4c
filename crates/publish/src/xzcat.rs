//! One xz stream made of independently compressed blocks, so Packages.xz can be
//! assembled from cached pieces like Packages.gz.
//!
//! apt reads only the first stream of an xz file, so concatenating single-block streams
//! (what works for gzip members) would lose data. A stream may, however, hold any number
//! of blocks, each compressed on its own. Each piece is kept as a complete single-block
//! xz stream (a valid `.xz` file on its own, cheap to check); [`join`] lifts the block out
//! of every piece and writes one stream around them: the common stream header, the
//! blocks, an index listing every block's sizes, and the footer (format: the
//! `xz-file-format` specification, sections 2 and 4).

use std::io::Write as _;

/// Stream header magic.
const MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0x00];
/// Stream footer magic.
const FOOTER_MAGIC: [u8; 2] = [b'Y', b'Z'];
const HEADER_LEN: usize = 12;
const FOOTER_LEN: usize = 12;

/// Compresses `data` into one single-block xz stream (preset 1, CRC64 check), the piece
/// [`join`] takes.
pub(crate) fn piece(data: &[u8]) -> Vec<u8> {
    let mut w = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))
        .expect("xz preset 1 is valid");
    w.write_all(data)
        .expect("writing into memory does not fail");
    w.finish().expect("writing into memory does not fail")
}

/// What [`join`] needs of one piece.
struct Block<'a> {
    /// Stream flags (check type) of the piece.
    flags: [u8; 2],
    /// The block, padding and check included.
    bytes: &'a [u8],
    /// Block header + compressed data + check, without padding.
    unpadded: u64,
    /// Size of the data the block decompresses to.
    uncompressed: u64,
}

/// Reads the one block of a single-block stream; `None` when `piece` is not one.
fn block(piece: &[u8]) -> Option<Block<'_>> {
    if piece.len() < HEADER_LEN + FOOTER_LEN || piece[..6] != MAGIC {
        return None;
    }
    let flags = [piece[6], piece[7]];
    let footer = &piece[piece.len() - FOOTER_LEN..];
    if footer[10..] != FOOTER_MAGIC || footer[8..10] != flags {
        return None;
    }
    let backward = u32::from_le_bytes(footer[4..8].try_into().ok()?);
    let index_len = (usize::try_from(backward).ok()? + 1) * 4;
    let index_start = piece.len().checked_sub(FOOTER_LEN + index_len)?;
    let index = piece.get(index_start..piece.len() - FOOTER_LEN)?;
    // Index: indicator 0, record count, (unpadded, uncompressed) per record.
    let mut pos = 1;
    if index.first() != Some(&0) || varint(index, &mut pos)? != 1 {
        return None;
    }
    let unpadded = varint(index, &mut pos)?;
    let uncompressed = varint(index, &mut pos)?;
    let padded = usize::try_from(unpadded.next_multiple_of(4)).ok()?;
    if HEADER_LEN + padded != index_start {
        return None;
    }
    Some(Block {
        flags,
        bytes: &piece[HEADER_LEN..index_start],
        unpadded,
        uncompressed,
    })
}

/// Joins pieces made by [`piece`] into one xz stream that decompresses to their data,
/// in order. `None` when a piece is not a single-block stream or the pieces disagree on
/// the check type (never for pieces [`piece`] made).
pub(crate) fn join<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let blocks: Vec<Block<'_>> = pieces.into_iter().map(block).collect::<Option<_>>()?;
    // An empty stream: what the encoder writes for no data.
    let Some(first) = blocks.first() else {
        return Some(piece(&[]));
    };
    let flags = first.flags;
    if blocks.iter().any(|b| b.flags != flags) {
        return None;
    }
    let mut out = Vec::with_capacity(blocks.iter().map(|b| b.bytes.len()).sum::<usize>() + 64);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&flags);
    out.extend_from_slice(&crc32fast::hash(&flags).to_le_bytes());
    for b in &blocks {
        out.extend_from_slice(b.bytes);
    }
    let index_start = out.len();
    out.push(0);
    put_varint(&mut out, blocks.len() as u64);
    for b in &blocks {
        put_varint(&mut out, b.unpadded);
        put_varint(&mut out, b.uncompressed);
    }
    while (out.len() - index_start) % 4 != 0 {
        out.push(0);
    }
    let crc = crc32fast::hash(&out[index_start..]);
    out.extend_from_slice(&crc.to_le_bytes());
    let index_len = out.len() - index_start;
    let backward = u32::try_from(index_len / 4 - 1).ok()?;
    let mut tail = Vec::with_capacity(6);
    tail.extend_from_slice(&backward.to_le_bytes());
    tail.extend_from_slice(&flags);
    out.extend_from_slice(&crc32fast::hash(&tail).to_le_bytes());
    out.extend_from_slice(&tail);
    out.extend_from_slice(&FOOTER_MAGIC);
    Some(out)
}

/// xz's variable-length integer (7 bits per byte, low first, at most 9 bytes).
fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..9 {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7F) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn unxz(data: &[u8]) -> Vec<u8> {
        // `false`: one stream only, as apt reads it.
        let mut out = Vec::new();
        lzma_rust2::XzReader::new(data, false)
            .read_to_end(&mut out)
            .expect("valid xz");
        out
    }

    #[test]
    fn joined_pieces_are_one_stream_of_all_the_data() {
        let parts: Vec<Vec<u8>> = (0..5)
            .map(|i| {
                format!("Package: p{i}\nVersion: {i}\n\n")
                    .repeat(50 * i + 1)
                    .into_bytes()
            })
            .collect();
        let pieces: Vec<Vec<u8>> = parts.iter().map(|p| piece(p)).collect();
        let joined = join(pieces.iter().map(Vec::as_slice)).expect("join");
        assert_eq!(unxz(&joined), parts.concat());
        assert_eq!(unxz(&join([]).expect("empty")), b"");
        // One piece joined is that piece.
        assert_eq!(
            join([pieces[2].as_slice()]).as_deref(),
            Some(pieces[2].as_slice())
        );
    }

    #[test]
    fn foreign_bytes_are_refused() {
        assert!(join([b"not xz at all, but long enough".as_slice()]).is_none());
        let two = [piece(b"a"), piece(b"b")].concat();
        assert!(
            join([two.as_slice()]).is_none(),
            "two streams are not one piece"
        );
    }

    proptest::proptest! {
        #[test]
        fn varints_round_trip(v in 0u64..(1 << 63)) {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            let mut pos = 0;
            proptest::prop_assert_eq!(varint(&buf, &mut pos), Some(v));
            proptest::prop_assert_eq!(pos, buf.len());
        }
    }
}
