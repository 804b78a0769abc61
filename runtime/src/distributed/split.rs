//! This rank's share of a graph: the tasks it owns, the values it imports from other ranks
//! (external nodes, handed in as messages arrive) and one *send* task per value it exports
//! (encodes the value and hands the bytes to the calling thread, which sends them).

use super::placement::{encodable, Placement, EVERYWHERE};
use super::protocol::{self, Outgoing};
use crate::{Error, NodeId, Task, TaskError, TaskGraph, Wire};
use std::sync::mpsc::Sender;
use std::sync::Arc;

/// What this rank runs of a graph.
pub(crate) struct LocalRun {
    pub(crate) graph: TaskGraph,
    /// Local ids of the caller's outputs (in order), then of the send tasks.
    pub(crate) outputs: Vec<NodeId>,
    /// How many of `outputs` are the caller's.
    pub(crate) caller_outputs: usize,
    /// For each global node imported here: its local id and codec (`None` elsewhere).
    pub(crate) imports: Vec<Option<(u32, Wire)>>,
}

/// Which ranks a run's outputs go to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fanout {
    /// Number of ranks.
    pub(crate) ranks: u32,
    /// The one rank that receives the outputs (`None`: every rank).
    pub(crate) output_rank: Option<u32>,
    /// Whether each output stays with its owner instead (no rank receives it).
    pub(crate) keep: bool,
}

impl Fanout {
    fn receives_outputs(&self, rank: u32) -> bool {
        !self.keep && self.output_rank.is_none_or(|r| r == rank)
    }
}

/// The ranks other than the owner that need node `i`'s value: the owners of its consumers,
/// and the ranks receiving the outputs for an output.
fn destinations(p: &Placement, i: usize, is_output: bool, f: Fanout) -> Vec<u32> {
    let me = p.owner[i];
    let mut d: Vec<u32> = p.succs_of(i).iter().map(|&c| p.owner[c as usize]).collect();
    if is_output {
        d.extend((0..f.ranks).filter(|&r| f.receives_outputs(r)));
    }
    d.retain(|&r| r != me && r != EVERYWHERE);
    d.sort_unstable();
    d.dedup();
    d
}

/// Checks, identically on every rank, that every value that must cross can be encoded, and
/// counts the tasks every rank runs together (its own, its send tasks, the values it holds).
pub(crate) fn check_wires(
    g: &TaskGraph,
    outputs: &[NodeId],
    p: &Placement,
    f: Fanout,
) -> Result<usize, Error> {
    let mut is_output = vec![false; g.len()];
    outputs.iter().for_each(|o| is_output[o.index()] = true);
    let mut all_tasks = 0;
    let mut holders = Vec::new();
    for (i, &out) in is_output.iter().enumerate() {
        if !p.needed[i] {
            continue;
        }
        if p.owner[i] == EVERYWHERE {
            // held by every rank with a consumer of it (every rank, for an output)
            holders.clear();
            holders.extend(p.succs_of(i).iter().map(|&c| p.owner[c as usize]));
            holders.sort_unstable();
            holders.dedup();
            all_tasks += if out { f.ranks as usize } else { holders.len() };
            continue;
        }
        let crosses = !destinations(p, i, out, f).is_empty();
        all_tasks += 1 + crosses as usize;
        if crosses && !encodable(g, i) {
            return Err(Error::NotEncodable {
                key: g.keys[i].clone(),
                type_name: g
                    .wire(NodeId(i as u32))
                    .map_or("(no codec set)", |w| w.type_name()),
            });
        }
    }
    Ok(all_tasks)
}

/// Builds rank `me`'s graph. `check_wires` must have passed.
pub(crate) fn split(
    graph: TaskGraph,
    outputs: &[NodeId],
    p: &Placement,
    me: u32,
    f: Fanout,
    (run, compress): (u32, bool),
    outbox: &Sender<Outgoing>,
) -> Result<LocalRun, Error> {
    let n = graph.len();
    let mut is_output = vec![false; n];
    outputs.iter().for_each(|o| is_output[o.index()] = true);
    let TaskGraph {
        keys,
        tasks,
        dep_start,
        deps,
        wires,
        replicated: _,
        spread: _,
        pins: _,
        boxed_keys: _,
    } = graph;
    let wire_of = |i: usize| wires.get(i).copied().flatten();
    let mut local = TaskGraph::with_capacity(n, deps.len());
    let mut local_id = vec![u32::MAX; n];
    let mut imports: Vec<Option<(u32, Wire)>> = vec![None; n];
    let mut sends = Vec::new();
    let mut import =
        |d: usize, local: &mut TaskGraph, local_id: &mut Vec<u32>| -> Result<NodeId, Error> {
            if local_id[d] != u32::MAX {
                return Ok(NodeId(local_id[d]));
            }
            let id = local.add_external(keys[d].clone())?;
            // check_wires saw to it that a value crossing has a codec
            let wire = wire_of(d).unwrap_or(crate::Opaque::<()>::WIRE);
            imports[d] = Some((id.0, wire));
            local_id[d] = id.0;
            Ok(id)
        };
    let mut mapped = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let owner = p.owner[i];
        if !p.needed[i] || (owner != me && owner != EVERYWHERE) {
            continue;
        }
        mapped.clear();
        for &d in &deps[dep_start[i] as usize..dep_start[i + 1] as usize] {
            mapped.push(import(d as usize, &mut local, &mut local_id)?);
        }
        let id = local.add(keys[i].clone(), &mapped, task)?;
        local_id[i] = id.0;
        if owner == EVERYWHERE {
            continue;
        }
        let dests = destinations(p, i, is_output[i], f);
        if dests.is_empty() {
            continue;
        }
        let Some(wire) = wire_of(i) else { continue };
        let outbox = outbox.clone();
        let node = i as u32;
        let send = Task::once(move |inputs| {
            let mut bytes = protocol::header(protocol::DATA, run, node);
            wire.encode(inputs.value(0)?, &mut bytes).map_err(|e| {
                TaskError::new(format!(
                    "could not encode its value (a `{}`) to send it: {e}",
                    wire.type_name()
                ))
            })?;
            if bytes.len() > protocol::MAX_MESSAGE {
                return Err(TaskError::new(format!(
                    "its value (a `{}`) is {} bytes, more than one message carries ({}); \
                     split it into more chunks or partitions",
                    wire.type_name(),
                    bytes.len(),
                    protocol::MAX_MESSAGE
                )));
            }
            if compress && bytes.len() >= protocol::COMPRESS_FROM {
                let header = protocol::header(protocol::DEFLATED, run, node);
                if let Some(smaller) = protocol::deflated(&header, &bytes[header.len()..]) {
                    bytes = smaller;
                }
            }
            // The calling thread has hung up only when the run is over.
            let _ = outbox.send(Outgoing {
                dests,
                bytes: bytes.into(),
            });
            Ok(Arc::new(()))
        });
        let s = local.add(keys[i].clone(), &[id], send)?;
        sends.push(s);
    }
    let mut local_outputs = Vec::with_capacity(outputs.len() + sends.len());
    if f.keep {
        // the outputs held here, in order
        for o in outputs {
            let owner = p.owner[o.index()];
            if owner == me || owner == EVERYWHERE {
                local_outputs.push(import(o.index(), &mut local, &mut local_id)?);
            }
        }
    } else if f.receives_outputs(me) {
        for o in outputs {
            local_outputs.push(import(o.index(), &mut local, &mut local_id)?);
        }
    }
    let caller_outputs = local_outputs.len();
    local_outputs.extend(sends);
    Ok(LocalRun {
        graph: local,
        outputs: local_outputs,
        caller_outputs,
        imports,
    })
}
