//! Reading an artifact once: its bytes go to the format's parser, to a whole-file SHA-256
//! and, when berth keeps a copy, to that copy, on separate threads.

use std::io::{self, Read, Seek as _, Write as _};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use berth_model::Sha256Digest;
use camino::Utf8Path;
use sha2::{Digest as _, Sha256};

use crate::FormatError;
use crate::hash::{BUF_SIZE, Destination, FileDigest, PROGRESS_STEP, Progress, read_full};

/// Chunks start at this alignment, so that the copy can be written with `O_DIRECT`.
const ALIGN: usize = 4096;

/// How many chunks may wait between two threads.
const DEPTH: usize = 8;

/// How much of a buffered copy is written before its write-back is started.
const WRITEBACK_STEP: u64 = 16 << 20;

/// Reads `src` once, in 1 MiB chunks passed between threads: `consume` reads the bytes on
/// this one (it gets the path to name in errors) while a second thread hashes the whole
/// file, so the SHA-256 of the members and that of the file run side by side.
///
/// For [`Destination::CopyTo`] this thread reads the file and a third one writes the copy
/// from the chunks the hashing thread is done with. It writes with `O_DIRECT` where the
/// filesystem takes it: the disk then reads the chunks from memory itself, and the CPU
/// stays with the hashes (a buffered copy costs about as much CPU as one of them). Where
/// `O_DIRECT` is refused it writes through the page cache and starts each
/// [`WRITEBACK_STEP`]'s write-back at once. Either way the copy is fsynced at the end.
///
/// For [`Destination::InPlace`] the second thread reads, and fsyncs `src` at the end.
///
/// Buffers go round and are reused; at most a few dozen MiB are in flight. Whatever
/// `consume` leaves unread is drained, so the digest always covers the whole file.
pub(crate) fn tee_read<T>(
    src: &Utf8Path,
    dest: Destination<'_>,
    progress: Progress<'_>,
    consume: impl FnOnce(&Utf8Path, &mut dyn Read) -> Result<T, FormatError>,
) -> Result<(T, FileDigest), FormatError> {
    let shown = dest.shown(src);
    let input = match berth_model::store::open_regular(src) {
        Ok((f, _)) => fs_err::File::from_parts(f, src.as_std_path()),
        // Name the file as the user knows it.
        Err(e) if src != shown => {
            return Err(FormatError::Io {
                path: shown.to_owned(),
                source: e.into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    // `copy` receives the bytes (on the writer thread); `in_place` is `src` itself, fsynced
    // at the end by the hashing thread; `written` is the path named when either fails.
    let (copy, in_place, written) = match dest {
        Destination::CopyTo(d) => {
            let out = Copy::create(d).map_err(|source| FormatError::Io {
                path: d.to_owned(),
                source,
            })?;
            (Some(out), None, d)
        }
        Destination::InPlace { shown_as } => {
            let same = input.file().try_clone().map_err(|source| FormatError::Io {
                path: shown_as.to_owned(),
                source,
            })?;
            (None, Some(same), shown_as)
        }
    };
    let (full_tx, full_rx) = sync_channel::<io::Result<Chunk>>(DEPTH);
    let (empty_tx, empty_rx) = channel::<Chunk>();
    let (write_tx, write_rx) = sync_channel::<Chunk>(DEPTH);
    let first = |file| Chunks::First {
        file,
        empty: empty_rx,
        full: full_tx,
    };
    let (mine, theirs, writer_back) = if copy.is_some() {
        // Hashed chunks go on to the writer, which hands the buffers back.
        let theirs = Chunks::Second {
            full: full_rx,
            back: Back::Writer(write_tx),
        };
        (first(input), theirs, Some(empty_tx))
    } else {
        let mine = Chunks::Second {
            full: full_rx,
            back: Back::Reader(empty_tx),
        };
        (mine, first(input), None)
    };
    std::thread::scope(|scope| {
        let writer = copy
            .zip(writer_back)
            .map(|(out, back)| scope.spawn(move || out.write_from(write_rx, back)));
        // Ok(None): it stopped early because `consume` did.
        let hashing = scope.spawn(move || -> io::Result<Option<FileDigest>> {
            let mut chunks = theirs;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut chunk = Chunk::default();
            loop {
                chunk = match chunks.next(chunk) {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        // `consume` reports it, naming the file.
                        chunks.forward(e);
                        return Ok(None);
                    }
                };
                hasher.update(chunk.bytes());
                size += chunk.len as u64;
            }
            // Every chunk went on (to the writer, or back) in `next`; the writer's input
            // closes here.
            drop(chunks);
            if let Some(src) = in_place {
                src.sync_all()?;
            }
            Ok(Some(FileDigest {
                size,
                sha256: Sha256Digest::from_bytes(hasher.finalize().into()),
            }))
        });
        let mut reader = ChunkReader {
            chunks: mine,
            chunk: Chunk::default(),
            pos: 0,
            count: 0,
            reported: 0,
            progress,
        };
        let consumed = consume(shown, &mut reader).and_then(|v| {
            reader
                .drain()
                .map(|()| v)
                .map_err(|source| FormatError::Io {
                    path: shown.to_owned(),
                    source,
                })
        });
        if let Some(p) = progress {
            p(reader.count);
        }
        drop(reader);
        let hashed = hashing
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the hashing thread panicked")));
        let copied = writer.map_or(Ok(()), |w| {
            w.join()
                .unwrap_or_else(|_| Err(io::Error::other("the writing thread panicked")))
        });
        // A failed write or fsync names the file written; then what `consume` found.
        let hashed = copied.and(hashed).map_err(|source| FormatError::Io {
            path: written.to_owned(),
            source,
        })?;
        let value = consumed?;
        let digest = hashed.ok_or_else(|| FormatError::Io {
            path: shown.to_owned(),
            source: io::Error::other("the hashing thread stopped early"),
        })?;
        Ok((value, digest))
    })
}

/// One buffer of the file: `len` bytes from `start`, where `start` is [`ALIGN`]-aligned in
/// memory. The buffer is never resized, so the alignment holds for its whole life.
#[derive(Default)]
struct Chunk {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl Chunk {
    fn new() -> Chunk {
        let buf = vec![0u8; BUF_SIZE + ALIGN];
        // At most ALIGN - 1 for a byte pointer; usize::MAX would mean "cannot", never for u8.
        let start = buf.as_ptr().align_offset(ALIGN).min(ALIGN);
        Chunk { buf, start, len: 0 }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }

    /// Fills the chunk from `r` (a whole [`BUF_SIZE`] unless the input ends).
    fn fill(&mut self, r: &mut impl Read) -> io::Result<usize> {
        if self.buf.len() < self.start + BUF_SIZE {
            *self = Chunk::new();
        }
        self.len = read_full(r, &mut self.buf[self.start..self.start + BUF_SIZE])?;
        Ok(self.len)
    }
}

/// Where one of the two threads of [`tee_read`] gets its chunks.
enum Chunks {
    /// It reads the file, into buffers handed back, and passes each chunk on once done
    /// with it.
    First {
        file: fs_err::File,
        empty: Receiver<Chunk>,
        full: SyncSender<io::Result<Chunk>>,
    },
    /// It takes the chunks the other thread passes on, and passes each buffer on when done.
    Second {
        full: Receiver<io::Result<Chunk>>,
        back: Back,
    },
}

/// Where a chunk goes once hashed: back to the reader, or on to the writer of the copy.
enum Back {
    Reader(Sender<Chunk>),
    Writer(SyncSender<Chunk>),
}

impl Back {
    fn send(&self, chunk: Chunk) {
        // A receiver gone has stopped on an error of its own, which its thread reports.
        let _ = match self {
            Back::Reader(tx) => tx.send(chunk).is_ok(),
            Back::Writer(tx) => tx.send(chunk).is_ok(),
        };
    }
}

impl Chunks {
    /// Passes on `done` (the chunk just used) and returns the next one; `None` at the end
    /// of the file.
    fn next(&mut self, done: Chunk) -> io::Result<Option<Chunk>> {
        match self {
            Chunks::First { file, empty, full } => {
                if done.len > 0 && full.send(Ok(done)).is_err() {
                    return Err(io::Error::other("the other thread stopped"));
                }
                // A buffer handed back, or a new one.
                let mut chunk = empty.try_recv().unwrap_or_else(|_| Chunk::new());
                if chunk.fill(file)? == 0 {
                    return Ok(None);
                }
                Ok(Some(chunk))
            }
            Chunks::Second { full, back } => {
                if done.len > 0 {
                    back.send(done);
                }
                match full.recv() {
                    Ok(chunk) => chunk.map(Some),
                    Err(_) => Ok(None),
                }
            }
        }
    }

    /// Hands a read error to the other thread (when it is the one that reports).
    fn forward(&self, e: io::Error) {
        if let Chunks::First { full, .. } = self {
            let _ = full.send(Err(e));
        }
    }
}

/// The copy being written, and how.
struct Copy {
    file: fs_err::File,
    /// Opened with `O_DIRECT` (until a write is refused, or the short last chunk).
    direct: bool,
}

impl Copy {
    /// Creates the copy (a new file), with `O_DIRECT` where the filesystem takes it.
    fn create(path: &Utf8Path) -> io::Result<Copy> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let open = |flags: rustix::fs::OFlags| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o666)
                .custom_flags(flags.bits() as i32)
                .open(path)
        };
        let (file, direct) = match open(rustix::fs::OFlags::DIRECT) {
            Ok(f) => (f, true),
            // tmpfs and some others refuse O_DIRECT (EINVAL); an existing file is refused
            // by either open.
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) => {
                (open(rustix::fs::OFlags::empty())?, false)
            }
            Err(e) => return Err(e),
        };
        Ok(Copy {
            file: fs_err::File::from_parts(file, path.as_std_path()),
            direct,
        })
    }

    /// Leaves `O_DIRECT`: the rest goes through the page cache.
    fn buffered(&mut self) -> io::Result<()> {
        if self.direct {
            let fl = rustix::fs::fcntl_getfl(self.file.file())?;
            rustix::fs::fcntl_setfl(self.file.file(), fl.difference(rustix::fs::OFlags::DIRECT))?;
            self.direct = false;
        }
        Ok(())
    }

    /// Writes the chunks as they come, handing each buffer back, then fsyncs the copy.
    fn write_from(mut self, chunks: Receiver<Chunk>, back: Sender<Chunk>) -> io::Result<()> {
        let (mut done, mut started) = (0u64, 0u64);
        for chunk in chunks {
            // O_DIRECT takes whole blocks only: the short last chunk goes buffered.
            if chunk.len % ALIGN != 0 {
                self.buffered()?;
            }
            match self.file.write_all(chunk.bytes()) {
                Err(e) if self.direct && e.kind() == io::ErrorKind::InvalidInput => {
                    // Refused after all (a block size above ALIGN): again through the page
                    // cache, from where this chunk starts.
                    self.buffered()?;
                    self.file.seek(io::SeekFrom::Start(done))?;
                    self.file.write_all(chunk.bytes())?;
                }
                other => other?,
            }
            done += chunk.len as u64;
            if !self.direct && done - started >= WRITEBACK_STEP {
                berth_model::store::start_writeback(self.file.file(), started, done - started);
                started = done;
            }
            let _ = back.send(chunk);
        }
        self.file.file().sync_all()
    }
}

/// The bytes of the chunks, for `consume`.
struct ChunkReader<'p> {
    chunks: Chunks,
    chunk: Chunk,
    pos: usize,
    count: u64,
    reported: u64,
    progress: Progress<'p>,
}

impl ChunkReader<'_> {
    /// The next chunk in `self.chunk`; false at the end of the file.
    fn next_chunk(&mut self) -> io::Result<bool> {
        let done = std::mem::take(&mut self.chunk);
        let Some(next) = self.chunks.next(done)? else {
            return Ok(false);
        };
        self.chunk = next;
        self.pos = 0;
        self.count += self.chunk.len as u64;
        if let Some(p) = self.progress
            && self.count - self.reported >= PROGRESS_STEP
        {
            self.reported = self.count;
            p(self.count);
        }
        Ok(true)
    }

    /// Takes every remaining chunk without copying it.
    fn drain(&mut self) -> io::Result<()> {
        while self.next_chunk()? {}
        Ok(())
    }
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len {
            if !self.next_chunk()? {
                return Ok(0);
            }
        }
        let bytes = self.chunk.bytes();
        let n = buf.len().min(bytes.len() - self.pos);
        buf[..n].copy_from_slice(&bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::ingest_file;

    /// Both ways of reading once (copy, in place) hash the whole file whatever `consume`
    /// reads, hand `consume` every byte in order, and let its error win.
    #[test]
    fn tee_read_copies_or_reads_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Utf8Path::from_path(dir.path()).expect("utf-8");
        let shown = Utf8Path::new("/shown/as");
        for (i, len) in [0, 1, BUF_SIZE, 3 * BUF_SIZE + 17].into_iter().enumerate() {
            let data: Vec<u8> = (0..len).map(|x| (x % 251) as u8).collect();
            let src = d.join(format!("src-{i}"));
            fs_err::write(&src, &data).expect("write");
            let want = FileDigest {
                size: len as u64,
                sha256: Sha256Digest::of(&data),
            };
            let copy = d.join(format!("copy-{i}"));
            for dest in [
                Destination::CopyTo(&copy),
                Destination::InPlace { shown_as: shown },
            ] {
                let (seen, got) = tee_read(&src, dest, None, |_, r| {
                    let mut v = Vec::new();
                    r.read_to_end(&mut v).map_err(|source| FormatError::Io {
                        path: src.clone(),
                        source,
                    })?;
                    Ok(v)
                })
                .expect("read");
                assert_eq!((seen == data, got), (true, want), "{dest:?} {len}");
                if let Destination::CopyTo(c) = dest {
                    assert_eq!(fs_err::read(c).expect("copy"), data);
                    fs_err::remove_file(c).expect("rm");
                }
                // Reading only the start still hashes everything.
                let ((), got) = tee_read(&src, dest, None, |_, r| {
                    let _ = r.read(&mut [0u8; 10]);
                    Ok(())
                })
                .expect("read");
                assert_eq!(got, want, "{dest:?} {len}");
                let _ = fs_err::remove_file(&copy);
                // A failing `consume` wins, and gets the path to name.
                let err = tee_read(&src, dest, None, |p, _| -> Result<(), _> {
                    Err(FormatError::InvalidImage {
                        path: p.to_owned(),
                        detail: "no".into(),
                    })
                })
                .expect_err("consume failed");
                assert_eq!(err.path(), dest.shown(&src), "{dest:?}");
                let _ = fs_err::remove_file(&copy);
            }
            assert_eq!(
                fs_err::read(&src).expect("read"),
                data,
                "in place leaves it be"
            );
        }
        // The copy must be new: an existing file is not overwritten.
        let src = d.join("src-1");
        let taken = d.join("taken");
        fs_err::write(&taken, b"keep").expect("write");
        let err = ingest_file(&src, Destination::CopyTo(&taken), None).expect_err("exists");
        assert_eq!(err.path(), taken.as_path());
        assert_eq!(fs_err::read(&taken).expect("read"), b"keep");
    }

    /// The copy is byte-identical whichever way it is written: with `O_DIRECT` on a disk
    /// filesystem (whole chunks direct, the short tail buffered), buffered on tmpfs (which
    /// refuses `O_DIRECT`), and buffered from the start.
    #[test]
    fn copies_are_identical_direct_or_buffered() {
        let target = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tmp");
        fs_err::create_dir_all(&target).expect("target/tmp");
        let disk = tempfile::tempdir_in(&target).expect("tempdir");
        let shm = tempfile::tempdir_in("/dev/shm").ok();
        let dirs: Vec<&std::path::Path> = [Some(disk.path()), shm.as_ref().map(|d| d.path())]
            .into_iter()
            .flatten()
            .collect();
        for dir in dirs {
            let d = Utf8Path::from_path(dir).expect("utf-8");
            for len in [0, ALIGN, BUF_SIZE, 3 * BUF_SIZE + 17] {
                let data: Vec<u8> = (0..len).map(|x| (x * 7 % 253) as u8).collect();
                let src = d.join(format!("src-{len}"));
                fs_err::write(&src, &data).expect("write");
                let copy = d.join(format!("copy-{len}"));
                let ((), got) =
                    tee_read(&src, Destination::CopyTo(&copy), None, |_, _| Ok(())).expect("copy");
                assert_eq!(got.sha256, Sha256Digest::of(&data));
                assert_eq!(fs_err::read(&copy).expect("read"), data, "{copy}");
                // Buffered from the start, chunk by chunk.
                let forced = d.join(format!("forced-{len}"));
                let mut out = Copy::create(&forced).expect("create");
                out.buffered().expect("buffered");
                let (tx, rx) = channel();
                let (back, _returned) = channel();
                for piece in data.chunks(BUF_SIZE) {
                    let mut c = Chunk::new();
                    c.fill(&mut &piece[..]).expect("fill");
                    tx.send(c).expect("send");
                }
                drop(tx);
                out.write_from(rx, back).expect("write");
                assert_eq!(fs_err::read(&forced).expect("read"), data, "{forced}");
            }
        }
    }
}
