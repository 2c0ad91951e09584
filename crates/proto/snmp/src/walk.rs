//! Table walks: several columns at once with GETBULK (SNMPv2c/v3) or GETNEXT (SNMPv1).
//!
//! Each column advances on its own and ends at the first OID outside it, at endOfMibView, at
//! an exception value or at SNMPv1's noSuchName. Max-repetitions adapts to the agent: halved on
//! tooBig and on a timeout, grown back after full answers. An agent that returns an OID not
//! greater than the one asked for (which would loop forever) ends that column with a note, and
//! a column longer than the row limit (an endless walk) is cut with a note.

use crate::client::{Client, ClientError};
use crate::codec::{ErrorStatus, Request, Value, VarBind, Version};
use crate::oid::Oid;

/// Varbinds asked per GETBULK at most (split over the columns walked together).
pub const MAX_BULK_VARBINDS: u32 = 64;
/// Varbinds asked per GETBULK at first.
pub const START_BULK_VARBINDS: u32 = 48;
/// Rows per column after which a walk stops (an agent walking endlessly).
pub const DEFAULT_MAX_ROWS: usize = 100_000;
/// Timeouts in a row that a walk absorbs by shrinking its requests before giving up.
const SHRINK_ON_TIMEOUT: u32 = 2;

/// How a walk goes.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    /// Rows per column after which the column is cut.
    pub max_rows: usize,
}

impl Default for WalkOptions {
    fn default() -> WalkOptions {
        WalkOptions {
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

/// The adaptive GETBULK size, kept per agent across walks.
#[derive(Debug, Clone, Copy)]
pub struct BulkSize {
    varbinds: u32,
    full_answers: u32,
}

impl Default for BulkSize {
    fn default() -> BulkSize {
        BulkSize {
            varbinds: START_BULK_VARBINDS,
            full_answers: 0,
        }
    }
}

impl BulkSize {
    /// Varbinds per request now.
    pub fn varbinds(&self) -> u32 {
        self.varbinds
    }

    fn max_repetitions(&self, columns: usize) -> u32 {
        (self.varbinds / columns.max(1) as u32).max(1)
    }

    /// Halves the size; false when it cannot shrink any further.
    fn shrink(&mut self) -> bool {
        self.full_answers = 0;
        if self.varbinds <= 1 {
            return false;
        }
        self.varbinds = (self.varbinds / 2).max(1);
        true
    }

    fn full_answer(&mut self) {
        self.full_answers += 1;
        if self.full_answers >= 4 && self.varbinds < MAX_BULK_VARBINDS {
            self.varbinds = (self.varbinds * 2).min(MAX_BULK_VARBINDS);
            self.full_answers = 0;
        }
    }
}

/// The rows of one column: (instance index, value), in walk order.
pub type ColumnRows = Vec<(Vec<u32>, Value)>;

/// What a walk returned.
#[derive(Debug, Clone, Default)]
pub struct Walked {
    /// One list per column asked, in the order asked.
    pub columns: Vec<ColumnRows>,
    /// Problems met on the way (the walk went on or stopped early, but returned what it had).
    pub notes: Vec<String>,
}

impl Walked {
    /// The distinct row indices over all columns.
    pub fn row_count(&self) -> usize {
        let mut indices: Vec<&Vec<u32>> = self.columns.iter().flatten().map(|(i, _)| i).collect();
        indices.sort();
        indices.dedup();
        indices.len()
    }
}

struct ColumnState {
    prefix: Oid,
    last: Oid,
    done: bool,
    rows: ColumnRows,
}

/// Walks `columns` of one table together.
pub async fn walk_columns(
    client: &mut Client,
    bulk: &mut BulkSize,
    columns: &[Oid],
    options: WalkOptions,
) -> Result<Walked, ClientError> {
    let mut state: Vec<ColumnState> = columns
        .iter()
        .map(|c| ColumnState {
            prefix: c.clone(),
            last: c.clone(),
            done: false,
            rows: Vec::new(),
        })
        .collect();
    let mut notes = Vec::new();
    let mut timeouts_in_a_row = 0;
    loop {
        let active: Vec<usize> = (0..state.len()).filter(|i| !state[*i].done).collect();
        if active.is_empty() {
            break;
        }
        let names: Vec<Oid> = active.iter().map(|i| state[*i].last.clone()).collect();
        let request = if client.version() == Version::V1 {
            Request::GetNext(names)
        } else {
            Request::GetBulk {
                non_repeaters: 0,
                max_repetitions: bulk.max_repetitions(active.len()),
                oids: names,
            }
        };
        let pdu = match client.request(&request).await {
            Ok(pdu) => {
                timeouts_in_a_row = 0;
                pdu
            }
            Err(e) if e.is_timeout() && timeouts_in_a_row < SHRINK_ON_TIMEOUT && bulk.shrink() => {
                // a large answer may have been lost: ask for less
                timeouts_in_a_row += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        match pdu.error_status {
            ErrorStatus::NoError => {}
            ErrorStatus::TooBig => {
                if !bulk.shrink() {
                    notes.push(format!(
                        "{}: the agent answers tooBig even for a single value; walk stopped",
                        columns_text(&state, &active)
                    ));
                    break;
                }
                continue;
            }
            ErrorStatus::AuthorizationError => {
                return Err(ClientError::AccessDenied {
                    addr: client.addr(),
                    request: request.name(),
                    status: pdu.error_status,
                });
            }
            ErrorStatus::NoSuchName if client.version() == Version::V1 => {
                // SNMPv1: the named column has nothing after it
                let Some(pos) = (pdu.error_index as usize).checked_sub(1) else {
                    mark_done(&mut state, &active);
                    continue;
                };
                match active.get(pos) {
                    Some(i) => state[*i].done = true,
                    None => mark_done(&mut state, &active),
                }
                continue;
            }
            other => {
                notes.push(format!(
                    "{}: the agent answered {other}; walk stopped",
                    columns_text(&state, &active)
                ));
                break;
            }
        }
        if pdu.varbinds.is_empty() {
            notes.push(format!(
                "{}: the agent answered with no values; walk stopped",
                columns_text(&state, &active)
            ));
            break;
        }
        let asked = match &request {
            Request::GetBulk {
                max_repetitions, ..
            } => *max_repetitions as usize * active.len(),
            _ => active.len(),
        };
        if pdu.varbinds.len() >= asked {
            bulk.full_answer();
        }
        absorb(&mut state, &active, pdu.varbinds, options, &mut notes);
    }
    Ok(Walked {
        columns: state.into_iter().map(|s| s.rows).collect(),
        notes,
    })
}

/// Walks one subtree (one column, or a whole table as `snmpbulkwalk` does).
pub async fn walk_subtree(
    client: &mut Client,
    bulk: &mut BulkSize,
    root: &Oid,
    options: WalkOptions,
) -> Result<(ColumnRows, Vec<String>), ClientError> {
    let mut walked = walk_columns(client, bulk, std::slice::from_ref(root), options).await?;
    Ok((walked.columns.pop().unwrap_or_default(), walked.notes))
}

fn mark_done(state: &mut [ColumnState], active: &[usize]) {
    for i in active {
        state[*i].done = true;
    }
}

fn columns_text(state: &[ColumnState], active: &[usize]) -> String {
    let names: Vec<String> = active
        .iter()
        .map(|i| state[*i].prefix.to_string())
        .collect();
    names.join(", ")
}

/// Files the varbinds of one answer under their columns: varbind k belongs to the column
/// `active[k % active.len()]` (GETBULK repeats the list of names, one row at a time).
fn absorb(
    state: &mut [ColumnState],
    active: &[usize],
    varbinds: Vec<VarBind>,
    options: WalkOptions,
    notes: &mut Vec<String>,
) {
    let width = active.len().max(1);
    for (k, vb) in varbinds.into_iter().enumerate() {
        let Some(&i) = active.get(k % width) else {
            continue;
        };
        let col = &mut state[i];
        if col.done {
            continue;
        }
        if matches!(
            vb.value,
            Value::EndOfMibView | Value::NoSuchObject | Value::NoSuchInstance
        ) {
            col.done = true;
            continue;
        }
        let Some(index) = vb.oid.suffix(col.prefix.as_slice()) else {
            col.done = true;
            continue;
        };
        if index.is_empty() || vb.oid <= col.last {
            notes.push(format!(
                "{}: the agent returned {} after {} (not increasing); column stopped",
                col.prefix, vb.oid, col.last
            ));
            col.done = true;
            continue;
        }
        col.rows.push((index.to_vec(), vb.value));
        col.last = vb.oid;
        if col.rows.len() >= options.max_rows {
            notes.push(format!(
                "{}: stopped after {} rows (limit reached; the agent may be walking endlessly)",
                col.prefix, options.max_rows
            ));
            col.done = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(s: &str) -> Oid {
        s.parse().unwrap()
    }

    fn vb(s: &str, v: i64) -> VarBind {
        VarBind {
            oid: oid(s),
            value: Value::Integer(v),
        }
    }

    fn state(cols: &[&str]) -> Vec<ColumnState> {
        cols.iter()
            .map(|c| ColumnState {
                prefix: oid(c),
                last: oid(c),
                done: false,
                rows: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn bulk_answers_interleave_columns() {
        let mut s = state(&["1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.3"]);
        let mut notes = Vec::new();
        let answer = vec![
            vb("1.3.6.1.2.1.2.2.1.2.1", 1),
            vb("1.3.6.1.2.1.2.2.1.3.1", 6),
            vb("1.3.6.1.2.1.2.2.1.2.2", 2),
            vb("1.3.6.1.2.1.2.2.1.3.2", 6),
            // column 2 ends: its successor is the next column
            vb("1.3.6.1.2.1.2.2.1.3.1", 6),
            vb("1.3.6.1.2.1.2.2.1.4.1", 1500),
        ];
        absorb(&mut s, &[0, 1], answer, WalkOptions::default(), &mut notes);
        assert_eq!(s[0].rows.len(), 2);
        assert!(s[0].done);
        assert_eq!(s[1].rows.len(), 2);
        assert!(s[1].done);
        assert!(notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn a_non_increasing_oid_stops_the_column_with_a_note() {
        let mut s = state(&["1.3.6.1.2.1.17.4.3.1.2"]);
        let mut notes = Vec::new();
        let answer = vec![
            vb("1.3.6.1.2.1.17.4.3.1.2.0.1.2.3.4.5", 1),
            vb("1.3.6.1.2.1.17.4.3.1.2.0.1.2.3.4.5", 1),
        ];
        absorb(&mut s, &[0], answer, WalkOptions::default(), &mut notes);
        assert_eq!(s[0].rows.len(), 1);
        assert!(s[0].done);
        assert!(notes[0].contains("not increasing"), "{notes:?}");
    }

    #[test]
    fn a_row_limit_cuts_an_endless_column() {
        let mut s = state(&["1.3.6.1.4.1.99"]);
        let mut notes = Vec::new();
        let answer: Vec<VarBind> = (1..=10)
            .map(|i| vb(&format!("1.3.6.1.4.1.99.{i}"), i))
            .collect();
        absorb(
            &mut s,
            &[0],
            answer,
            WalkOptions { max_rows: 5 },
            &mut notes,
        );
        assert_eq!(s[0].rows.len(), 5);
        assert!(notes[0].contains("stopped after 5 rows"));
    }

    #[test]
    fn bulk_size_halves_and_grows_back() {
        let mut b = BulkSize::default();
        assert_eq!(b.max_repetitions(3), START_BULK_VARBINDS / 3);
        while b.shrink() {}
        assert_eq!(b.varbinds(), 1);
        assert_eq!(b.max_repetitions(5), 1);
        for _ in 0..40 {
            b.full_answer();
        }
        assert_eq!(b.varbinds(), MAX_BULK_VARBINDS);
    }
}
