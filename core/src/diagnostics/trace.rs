//! Chrome trace-event JSON (the format Perfetto and `chrome://tracing` open).
//!
//! Each run is a process, numbered from 1 in the order the profiler recorded them (on a
//! cluster, by rank first: rank `r`'s runs are `r·2²⁰ + run`, so the traces of every rank
//! merge into one file), each worker a thread (a pool's calling thread named so), each task
//! one complete event (`"ph": "X"`)
//! named by its key prefix (without a layer's token), with the full key in its arguments. Times are microseconds.

use super::profile::RunRecord;
use crate::key_split::key_split;
use std::io::{self, Write};
use std::sync::Arc;

pub(crate) fn write(w: &mut dyn Write, runs: &[Arc<RunRecord>]) -> io::Result<()> {
    w.write_all(b"{\"displayTimeUnit\":\"ms\",\"traceEvents\":[")?;
    let mut first = true;
    let mut sep = |w: &mut dyn Write| -> io::Result<()> {
        if !std::mem::take(&mut first) {
            w.write_all(b",")?;
        }
        w.write_all(b"\n")
    };
    for (number, run) in (1u64..).zip(runs) {
        let (rank, ranks) = run.rank;
        let pid = ((rank as u64) << 20) + number;
        let place = if ranks > 1 {
            format!(" on rank {rank} of {ranks}")
        } else {
            String::new()
        };
        sep(w)?;
        write!(
            w,
            "{{\"ph\":\"M\",\"pid\":{pid},\"tid\":0,\"name\":\"process_name\",\"args\":{{\"name\":\"dagr run {number}{place}: {} task{} on {} worker{}{}{}\"}}}}",
            run.len(),
            if run.len() == 1 { "" } else { "s" },
            run.pool(),
            if run.pool() == 1 { "" } else { "s" },
            if run.caller().is_some() { " and the calling thread" } else { "" },
            if run.failed { " (failed)" } else { "" },
        )?;
        let mut workers: Vec<u32> = run.tasks().map(|t| t.worker).collect();
        workers.sort_unstable();
        workers.dedup();
        for tid in workers {
            sep(w)?;
            write!(
                w,
                "{{\"ph\":\"M\",\"pid\":{pid},\"tid\":{tid},\"name\":\"thread_name\",\"args\":{{\"name\":\"{}\"}}}}",
                if Some(tid) == run.caller() {
                    "calling thread".to_owned()
                } else {
                    format!("worker {tid}")
                }
            )?;
        }
        for t in run.tasks() {
            sep(w)?;
            let (prefix, key) = match run.key(t.node) {
                Some(k) => (key_split(k.prefix()).to_owned(), k.to_string()),
                None => ("?".to_owned(), format!("node {}", t.node)),
            };
            w.write_all(b"{\"ph\":\"X\",\"cat\":\"task\",\"name\":")?;
            string(w, &prefix)?;
            write!(
                w,
                ",\"pid\":{pid},\"tid\":{},\"ts\":{},\"dur\":{},\"args\":{{\"key\":",
                t.worker,
                Micros(t.start),
                Micros(t.duration())
            )?;
            string(w, &key)?;
            if t.failed {
                w.write_all(b",\"failed\":true")?;
            }
            w.write_all(b"}}")?;
        }
    }
    w.write_all(b"\n]}\n")
}

/// Nanoseconds shown as microseconds with three decimals.
struct Micros(u64);

impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// Writes `s` as a JSON string.
fn string(w: &mut dyn Write, s: &str) -> io::Result<()> {
    w.write_all(b"\"")?;
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        w.write_all(&bytes[from..i])?;
        if escaped.is_empty() {
            write!(w, "\\u{b:04x}")?;
        } else {
            w.write_all(escaped)?;
        }
        from = i + 1;
    }
    w.write_all(&bytes[from..])?;
    w.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        string(&mut out, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\nd\u0001é""#);
        assert_eq!(Micros(1_234_567).to_string(), "1234.567");
        assert_eq!(Micros(5).to_string(), "0.005");
    }
}
