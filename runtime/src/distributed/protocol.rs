//! One distributed run, as each rank's calling thread drives it.
//!
//! # Steps
//! 1. Every rank places the graph ([`placement`](super::placement)), hashes its shape and
//!    all-gathers the hashes: a difference is [`Error::GraphMismatch`] on every rank. Every
//!    rank then checks that each value that must cross can be encoded (the same check on
//!    the same graph: the same error everywhere, with no message).
//! 2. Each rank builds its share ([`split`](super::split)) and starts it on its own pool.
//!    The calling thread then loops: it sends what the send tasks hand it, receives values
//!    and hands them in as the external nodes they are (decoding them first), and sleeps
//!    briefly when nothing happens.
//! 3. Termination is the non-blocking consensus of sparse data exchange: every message goes
//!    in synchronous mode (its send completes only once the receiver has it); a rank whose
//!    share has finished and whose sends have all completed enters a non-blocking barrier
//!    and keeps receiving until the barrier completes. When it does, every rank is past
//!    step 2 and every message of the run has been received.
//!
//! # Messages
//! A message is a 12-byte header (kind, run, node: little-endian `u32`s) and a payload:
//! `DATA` carries the encoded value of a node (`DEFLATED`: the same, compressed, for large
//! values when the cluster compresses), `ABORT` the rendered error of a rank whose run
//! failed. Messages are tagged with the run's number modulo 2¹⁵, and a rank only asks
//! for its current run's tag, so a fast rank's next run cannot be mistaken for this one.
//!
//! # Failure
//! A rank whose task fails (or whose received value does not decode) sends `ABORT` to
//! every other rank, before its barrier. A rank that fails or receives `ABORT` cancels its
//! share: tasks not started are skipped, and values still expected are handed in as
//! missing, so the share finishes without them. Since every `ABORT` is received before the
//! barrier completes, every rank knows the same set of failures and returns the same
//! [`Error::Rank`]: the failure of the lowest rank that failed.

use super::placement::{fingerprint, place};
use super::split::{check_wires, split, Fanout};
use crate::job::Job;
use crate::observer::Process;
use crate::{pool, Error, NodeId, Observer, TaskGraph, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A value for other ranks.
pub(crate) const DATA: u32 = 1;
/// A rank's run failed.
pub(crate) const ABORT: u32 = 2;
/// How many tasks a rank has finished (to rank 0, for its progress bar).
pub(crate) const PROGRESS: u32 = 3;
/// Several small values for one rank: `(node, length, encoding)` after the header, whose
/// node field is the count.
pub(crate) const BATCH: u32 = 4;
/// A `DATA` message whose payload is deflated (see [`Cluster::compress`](super::Cluster::compress)).
pub(crate) const DEFLATED: u32 = 5;
/// Encodings from this size on are deflated when the cluster compresses.
pub(crate) const COMPRESS_FROM: usize = 256 << 10;
/// Values at most this large travel in batches (copied once); larger ones alone.
const BATCH_VALUE: usize = 64 << 10;
/// A batch is sent when it grows past this, without waiting for the turn to end.
const BATCH_BYTES: usize = 8 << 20;
/// The largest message: MPI counts elements in a C `int`.
pub(crate) const MAX_MESSAGE: usize = i32::MAX as usize;
/// How often a rank tells rank 0 its progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Bytes of a message's header.
const HEADER: usize = 12;
/// Longest nap of the calling thread when nothing happens.
const MAX_NAP: Duration = Duration::from_micros(200);

/// Starts a message: its header.
pub(crate) fn header(kind: u32, run: u32, node: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(&kind.to_le_bytes());
    v.extend_from_slice(&run.to_le_bytes());
    v.extend_from_slice(&node.to_le_bytes());
    v
}

fn parse(bytes: &[u8]) -> Option<(u32, u32, u32, &[u8])> {
    let word = |k: usize| {
        Some(u32::from_le_bytes(
            bytes.get(4 * k..4 * k + 4)?.try_into().ok()?,
        ))
    };
    Some((word(0)?, word(1)?, word(2)?, bytes.get(HEADER..)?))
}

/// An encoded value, and the ranks it goes to.
pub(crate) struct Outgoing {
    pub(crate) dests: Vec<u32>,
    pub(crate) bytes: Arc<[u8]>,
}

/// What a distributed run needs from the message-passing layer.
pub(crate) trait Transport {
    fn rank(&self) -> u32;
    fn size(&self) -> u32;
    /// Every rank's `x`, in rank order (a collective: every rank calls it).
    fn all_gather(&mut self, x: u64) -> Vec<u64>;
    /// Starts a synchronous-mode send of `bytes` to `dest` with `tag`.
    fn send(&mut self, dest: u32, tag: i32, bytes: Arc<[u8]>);
    /// Whether every send started has completed.
    fn sends_done(&mut self) -> bool;
    /// A message with `tag` that has arrived, and its source.
    fn try_recv(&mut self, tag: i32) -> Option<(u32, Vec<u8>)>;
    /// Enters the non-blocking barrier.
    fn start_barrier(&mut self);
    /// Whether the barrier entered last has completed.
    fn barrier_done(&mut self) -> bool;
}

/// Counts of what crossed, kept by a cluster across its runs.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
    pub(crate) messages_sent: AtomicU64,
    pub(crate) messages_received: AtomicU64,
    pub(crate) tasks_run: AtomicU64,
}

/// How a run is configured on this rank.
pub(crate) struct RunConfig<'a> {
    pub(crate) threads: usize,
    pub(crate) observer: Option<Arc<dyn Observer>>,
    pub(crate) run: u32,
    pub(crate) counters: &'a Counters,
    /// The one rank that receives the outputs (`None`: every rank).
    pub(crate) output_rank: Option<u32>,
    /// Whether large values are deflated before they cross.
    pub(crate) compress: bool,
    /// Whether each output stays with the rank that computed it.
    pub(crate) keep: bool,
}

/// What a run gives this rank: its outputs' values (the held ones only, when outputs stay
/// with their owners) and the rank owning each output.
pub(crate) struct Ran {
    pub(crate) values: Vec<Value>,
    pub(crate) owners: Vec<u32>,
}

/// Deflates `payload` (fastest level) after `header`, if that saves a tenth or more.
pub(crate) fn deflated(header: &[u8], payload: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut out = header.to_vec();
    out.reserve(payload.len() / 2);
    let mut z = flate2::write::DeflateEncoder::new(out, flate2::Compression::fast());
    z.write_all(payload).ok()?;
    let out = z.finish().ok()?;
    (out.len() - header.len() < payload.len() / 10 * 9).then_some(out)
}

/// The payload of a `DEFLATED` message.
fn inflated(payload: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::with_capacity(payload.len() * 3);
    flate2::read::DeflateDecoder::new(payload).read_to_end(&mut out)?;
    Ok(out)
}

/// One entry of a batch: its node, its encoding and what follows.
fn batch_entry(b: &[u8]) -> Option<(u32, &[u8], &[u8])> {
    let node = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
    let len = u32::from_le_bytes(b.get(4..8)?.try_into().ok()?) as usize;
    let body = b.get(8..8 + len)?;
    Some((node, body, &b[8 + len..]))
}

/// Small values on their way, one buffer per destination, sent together at each turn of
/// the loop: a rank that produces many small values sends a few messages, not one each.
#[derive(Default)]
struct Batches {
    /// Per destination: the entries and their count.
    open: Vec<(Vec<u8>, u32)>,
}

impl Batches {
    fn add(&mut self, t: &mut impl Transport, c: &Counters, tag: i32, run: u32, o: Outgoing) {
        let Some((kind, _, node, payload)) = parse(&o.bytes) else {
            return;
        };
        // (batch entries are plain values: a compressed one goes on its own)
        if payload.len() > BATCH_VALUE || kind != DATA {
            send_all(t, c, tag, &o.dests, &o.bytes);
            return;
        }
        for &d in &o.dests {
            if self.open.len() <= d as usize {
                self.open.resize_with(d as usize + 1, Default::default);
            }
            let (buf, count) = &mut self.open[d as usize];
            buf.extend_from_slice(&node.to_le_bytes());
            buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            buf.extend_from_slice(payload);
            *count += 1;
            if buf.len() > BATCH_BYTES {
                self.flush_one(t, c, tag, run, d as usize);
            }
        }
    }

    fn flush(&mut self, t: &mut impl Transport, c: &Counters, tag: i32, run: u32) {
        for d in 0..self.open.len() {
            self.flush_one(t, c, tag, run, d);
        }
    }

    fn flush_one(&mut self, t: &mut impl Transport, c: &Counters, tag: i32, run: u32, d: usize) {
        let (buf, count) = &mut self.open[d];
        if *count == 0 {
            return;
        }
        let mut msg = header(BATCH, run, *count);
        msg.extend_from_slice(buf);
        buf.clear();
        *count = 0;
        send_all(t, c, tag, &[d as u32], &msg.into());
    }
}

fn send_all(t: &mut impl Transport, c: &Counters, tag: i32, dests: &[u32], bytes: &Arc<[u8]>) {
    for &d in dests {
        c.bytes_sent
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        c.messages_sent.fetch_add(1, Ordering::Relaxed);
        t.send(d, tag, bytes.clone());
    }
}

/// Runs `graph` across the ranks of `t`; every rank calls this with the same graph.
pub(crate) fn run(
    t: &mut impl Transport,
    cfg: RunConfig<'_>,
    graph: TaskGraph,
    outputs: &[NodeId],
) -> Result<Ran, Error> {
    if let Some(bad) = outputs.iter().find(|o| o.index() >= graph.len()) {
        return Err(Error::InvalidOutput(bad.index()));
    }
    let (me, ranks) = (t.rank(), t.size());
    let placement = place(&graph, outputs, ranks);
    let mine = fingerprint(&graph, outputs, &placement.needed);
    let all = t.all_gather(mine);
    if all.iter().any(|&h| h != all[0]) {
        let differ: Vec<String> = (0..all.len())
            .filter(|&r| all[r] != all[0])
            .map(|r| r.to_string())
            .collect();
        return Err(Error::GraphMismatch {
            detail: format!("rank {} differ from rank 0", differ.join(", ")),
        });
    }
    let fanout = Fanout {
        ranks,
        output_rank: cfg.output_rank,
        keep: cfg.keep,
    };
    let owners: Vec<u32> = outputs
        .iter()
        .map(|o| match placement.owner[o.index()] {
            super::placement::EVERYWHERE => me,
            r => r,
        })
        .collect();
    let all_tasks = check_wires(&graph, outputs, &placement, fanout)?;
    let (tx, rx) = mpsc::channel();
    let local = split(
        graph,
        outputs,
        &placement,
        me,
        fanout,
        (cfg.run, cfg.compress),
        &tx,
    )?;
    drop(tx);
    drop(placement);
    let mut job = Job::new(local.graph, &local.outputs, cfg.observer.clone())?;
    job.ranks = ranks;
    let job = Arc::new(job);
    cfg.counters
        .tasks_run
        .fetch_add(job.tasks as u64, Ordering::Relaxed);
    let pool = pool::pool(cfg.threads)?;
    let workers = pool.caller_index();
    let mut process = Process {
        rank: me as usize,
        ranks: ranks as usize,
        all_tasks,
        ..Process::default()
    };
    let (sent_before, received_before) = (
        cfg.counters.bytes_sent.load(Ordering::Relaxed),
        cfg.counters.bytes_received.load(Ordering::Relaxed),
    );
    if let Some(obs) = &cfg.observer {
        obs.on_run_start(&job.view_in(workers, process));
    }
    // Progress for rank 0's bar: what the other ranks' counters say.
    let progress = cfg.observer.as_ref().and_then(|o| o.counters());
    let mut told = (Instant::now(), 0u64);
    let mut remote_done = vec![0u64; ranks as usize];
    pool.launch(&job);

    let tag = (cfg.run % (1 << 15)) as i32;
    let mut imports = local.imports;
    let mut aborts: Vec<(u32, String)> = Vec::new();
    let mut cancelled_from_outside = false;
    let mut own_failure: Option<String> = None;
    let mut barrier = false;
    let mut nap = Duration::ZERO;
    let mut batches = Batches::default();
    let cancel_imports = |imports: &mut Vec<Option<(u32, crate::Wire)>>| {
        for slot in imports.iter_mut() {
            if let Some((id, _)) = slot.take() {
                if job.provide(id, None) {
                    pool.inject(&job, id);
                }
            }
        }
    };
    loop {
        let mut busy = false;
        // what the send tasks encoded
        loop {
            let o = if nap.is_zero() || busy || barrier {
                match rx.try_recv() {
                    Ok(o) => o,
                    Err(_) => break,
                }
            } else {
                match rx.recv_timeout(nap) {
                    Ok(o) => o,
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        // no send task left to wake us: nap all the same
                        std::thread::sleep(nap);
                        break;
                    }
                }
            };
            busy = true;
            batches.add(t, cfg.counters, tag, cfg.run, o);
        }
        batches.flush(t, cfg.counters, tag, cfg.run);
        // what other ranks sent
        while let Some((src, bytes)) = t.try_recv(tag) {
            busy = true;
            cfg.counters
                .bytes_received
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            cfg.counters
                .messages_received
                .fetch_add(1, Ordering::Relaxed);
            let Some((kind, run, node, payload)) = parse(&bytes) else {
                job.cancel(Error::Distributed(format!(
                    "a malformed message from rank {src}"
                )));
                cancel_imports(&mut imports);
                continue;
            };
            if run != cfg.run {
                job.cancel(Error::Distributed(format!(
                    "rank {src} sent a message of run {run} during run {}",
                    cfg.run
                )));
                cancel_imports(&mut imports);
                continue;
            }
            // hands in one value that arrived
            let mut deliver = |node: u32, payload: &[u8]| {
                let Some((id, wire)) = imports.get_mut(node as usize).and_then(Option::take) else {
                    return; // cancelled meanwhile, or not expected: dropped
                };
                let value = wire.decode(payload).map_err(|e| {
                    job.cancel(Error::Distributed(format!(
                        "could not decode the value of task {} (a `{}`) from rank {src}: {e}",
                        job.key(id),
                        wire.type_name()
                    )));
                });
                if job.provide(id, value.ok()) {
                    pool.inject(&job, id);
                }
            };
            match kind {
                DATA => deliver(node, payload),
                DEFLATED => match inflated(payload) {
                    Ok(bytes) => deliver(node, &bytes),
                    Err(e) => {
                        job.cancel(Error::Distributed(format!(
                            "a compressed message from rank {src} does not inflate: {e}"
                        )));
                        cancel_imports(&mut imports);
                    }
                },
                BATCH => {
                    let mut rest = payload;
                    for _ in 0..node {
                        let Some((n, body, tail)) = batch_entry(rest) else {
                            job.cancel(Error::Distributed(format!(
                                "a malformed batch from rank {src}"
                            )));
                            break;
                        };
                        deliver(n, body);
                        rest = tail;
                    }
                }
                ABORT => {
                    let message = String::from_utf8_lossy(payload).into_owned();
                    if !job.has_failed() {
                        cancelled_from_outside |= job.cancel(Error::Rank {
                            rank: src as usize,
                            message: message.clone(),
                        });
                    }
                    aborts.push((src, message));
                    cancel_imports(&mut imports);
                }
                PROGRESS => {
                    let done = payload
                        .get(..8)
                        .and_then(|b| b.try_into().ok())
                        .map_or(0, u64::from_le_bytes);
                    remote_done[src as usize] = done;
                    if let Some(obs) = &cfg.observer {
                        obs.on_remote_progress(job.id, remote_done.iter().sum());
                    }
                }
                _ => {
                    job.cancel(Error::Distributed(format!(
                        "a message of unknown kind {kind} from rank {src}"
                    )));
                }
            }
        }
        // a failure here: tell everyone, once, and stop waiting for values
        if own_failure.is_none() && job.has_failed() && !cancelled_from_outside {
            let message = job
                .error_message()
                .unwrap_or_else(|| "the run failed".to_owned());
            let mut bytes = header(ABORT, cfg.run, u32::MAX);
            bytes.extend_from_slice(message.as_bytes());
            let others: Vec<u32> = (0..ranks).filter(|&d| d != me).collect();
            send_all(t, cfg.counters, tag, &others, &bytes.into());
            own_failure = Some(message);
            cancel_imports(&mut imports);
            busy = true;
        }
        if let Some(c) = &progress {
            if me != 0 && !barrier && told.0.elapsed() >= PROGRESS_EVERY {
                let done = c.done();
                if done != told.1 {
                    let mut bytes = header(PROGRESS, cfg.run, 0);
                    bytes.extend_from_slice(&done.to_le_bytes());
                    send_all(t, cfg.counters, tag, &[0], &bytes.into());
                }
                told = (Instant::now(), done);
            }
        }
        if !barrier {
            if job.is_done() && t.sends_done() {
                // every send task has run: whatever they encoded is in the channel
                match rx.try_recv() {
                    Ok(o) => {
                        batches.add(t, cfg.counters, tag, cfg.run, o);
                        batches.flush(t, cfg.counters, tag, cfg.run);
                        continue;
                    }
                    Err(_) => {
                        t.start_barrier();
                        barrier = true;
                    }
                }
            }
        } else if t.barrier_done() {
            break;
        }
        if busy {
            nap = Duration::ZERO;
        } else if barrier || !job.is_done() {
            nap = (nap * 2).clamp(Duration::from_micros(5), MAX_NAP);
            if barrier {
                std::thread::sleep(nap);
            }
        }
    }
    process.bytes_sent = cfg.counters.bytes_sent.load(Ordering::Relaxed) - sent_before;
    process.bytes_received = cfg.counters.bytes_received.load(Ordering::Relaxed) - received_before;
    if let Some(obs) = &cfg.observer {
        job.await_spans();
        obs.on_run_end(&job.view_in(workers, process));
    }
    let first = aborts
        .into_iter()
        .chain(own_failure.map(|m| (me, m)))
        .min_by_key(|(r, _)| *r);
    if let Some((rank, message)) = first {
        // drop the share's values before returning
        drop(job.finish());
        return Err(Error::Rank {
            rank: rank as usize,
            message,
        });
    }
    let mut values = job.finish()?;
    values.truncate(local.caller_outputs);
    Ok(Ran { values, owners })
}
