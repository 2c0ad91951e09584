//! The DNS wire codec for what reverse lookups need: the PTR query we send and the answers.
//!
//! Pure functions over bytes, after RFC 1035 section 4 (header, question, resource records) with
//! the RCODEs of RFC 1035 4.1.1 and RFC 6895. Every count and length from the wire is checked
//! against the bytes present before use; no input makes them panic.

use crate::name::Name;
use std::fmt;

/// Length of the header.
pub const HEADER_LEN: usize = 12;
/// TYPE PTR (RFC 1035 3.2.2).
pub const TYPE_PTR: u16 = 12;
/// TYPE CNAME.
pub const TYPE_CNAME: u16 = 5;
/// CLASS IN.
pub const CLASS_IN: u16 = 1;
/// OPCODE QUERY, the only opcode we send.
pub const OPCODE_QUERY: u8 = 0;
/// The largest answer over UDP without EDNS (RFC 1035 4.2.1); longer answers come truncated.
pub const MAX_UDP_ANSWER: usize = 512;

const FLAG_QR: u16 = 0x8000;
const FLAG_AA: u16 = 0x0400;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The message ended inside a field.
    #[error("message truncated in the {what} at offset {offset}")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Where it started.
        offset: usize,
    },
    /// A compression pointer that does not point strictly backwards, or too many of them.
    #[error("bad compression pointer at offset {offset} (to {target}): loops or points forward")]
    BadPointer {
        /// Where the pointer is.
        offset: usize,
        /// Where it points.
        target: usize,
    },
    /// A label type other than a length (00) or a pointer (11).
    #[error("reserved label type {byte:#04x} at offset {offset}")]
    BadLabelType {
        /// Where it is.
        offset: usize,
        /// The octet.
        byte: u8,
    },
    /// A name longer than 255 octets.
    #[error("name at offset {offset} is longer than 255 octets")]
    NameTooLong {
        /// Where it starts.
        offset: usize,
    },
    /// A message that is a query, not a response.
    #[error("not a response (QR bit clear)")]
    NotResponse,
    /// More than one question.
    #[error("{0} questions in the answer (a PTR query has one)")]
    QuestionCount(u16),
    /// A record's RDATA does not fit its RDLENGTH.
    #[error("{rtype} record at offset {offset}: the name in its data overruns its RDLENGTH")]
    RdataOverrun {
        /// The record type.
        rtype: &'static str,
        /// Where the data starts.
        offset: usize,
    },
}

/// A response code (RFC 1035 4.1.1; RFC 6895 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rcode {
    /// 0: no error.
    NoError,
    /// 1: the server could not read the query.
    FormErr,
    /// 2: the server failed.
    ServFail,
    /// 3: the name does not exist.
    NxDomain,
    /// 4: the server does not implement the query.
    NotImp,
    /// 5: the server refuses.
    Refused,
    /// Any other code.
    Other(u8),
}

impl Rcode {
    /// From the header's 4-bit field.
    pub fn from_u8(code: u8) -> Rcode {
        match code {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            n => Rcode::Other(n),
        }
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::Other(n) => n,
        }
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rcode::NoError => f.write_str("NOERROR"),
            Rcode::FormErr => f.write_str("FORMERR"),
            Rcode::ServFail => f.write_str("SERVFAIL"),
            Rcode::NxDomain => f.write_str("NXDOMAIN"),
            Rcode::NotImp => f.write_str("NOTIMP"),
            Rcode::Refused => f.write_str("REFUSED"),
            Rcode::Other(n) => write!(f, "RCODE {n}"),
        }
    }
}

/// The message header (RFC 1035 4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// ID, echoed by the server.
    pub id: u16,
    /// QR, OPCODE, AA, TC, RD, RA, Z and RCODE.
    pub flags: u16,
    /// QDCOUNT.
    pub qdcount: u16,
    /// ANCOUNT.
    pub ancount: u16,
    /// NSCOUNT.
    pub nscount: u16,
    /// ARCOUNT.
    pub arcount: u16,
}

impl Header {
    /// Reads the header at the start of `message`.
    pub fn parse(message: &[u8]) -> Result<Header, CodecError> {
        let b = message.get(..HEADER_LEN).ok_or(CodecError::Truncated {
            what: "header",
            offset: 0,
        })?;
        let word = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        Ok(Header {
            id: word(0),
            flags: word(2),
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
        })
    }

    /// Writes the header.
    pub fn emit(&self, out: &mut Vec<u8>) {
        for word in [
            self.id,
            self.flags,
            self.qdcount,
            self.ancount,
            self.nscount,
            self.arcount,
        ] {
            out.extend_from_slice(&word.to_be_bytes());
        }
    }

    /// QR: this is a response.
    pub fn is_response(&self) -> bool {
        self.flags & FLAG_QR != 0
    }

    /// OPCODE.
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0F) as u8
    }

    /// AA: the answer is authoritative.
    pub fn authoritative(&self) -> bool {
        self.flags & FLAG_AA != 0
    }

    /// TC: the answer was truncated (ask again over TCP).
    pub fn truncated(&self) -> bool {
        self.flags & FLAG_TC != 0
    }

    /// RD: recursion desired.
    pub fn recursion_desired(&self) -> bool {
        self.flags & FLAG_RD != 0
    }

    /// RA: recursion available.
    pub fn recursion_available(&self) -> bool {
        self.flags & FLAG_RA != 0
    }

    /// RCODE.
    pub fn rcode(&self) -> Rcode {
        Rcode::from_u8((self.flags & 0x000F) as u8)
    }
}

/// The one request this crate can build: a standard query (OPCODE 0) with one question,
/// `name` PTR IN, recursion desired, no EDNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtrQuery {
    /// The ID the answer must echo.
    pub id: u16,
    /// The name asked (a reverse name, or a CNAME target the server named).
    pub name: Name,
}

impl PtrQuery {
    /// Writes the query into `out` (cleared first).
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        emit_ptr_query(self.id, &self.name, out);
    }

    /// The query's bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.name.wire().len() + 4);
        self.emit_into(&mut out);
        out
    }
}

/// Writes the PTR query with `id` for `name` into `out` (cleared first): what
/// [`PtrQuery::emit_into`] writes, without owning the name.
pub fn emit_ptr_query(id: u16, name: &Name, out: &mut Vec<u8>) {
    {
        out.clear();
        Header {
            id,
            flags: FLAG_RD, // QR 0, OPCODE QUERY, RD 1
            qdcount: 1,
            ancount: 0,
            nscount: 0,
            arcount: 0,
        }
        .emit(out);
        name.emit(out);
        out.extend_from_slice(&TYPE_PTR.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
    }
}

/// The question of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// QNAME.
    pub name: Name,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
}

/// The data of an answer record that reverse lookups use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// PTR: the name the address points to.
    Ptr(Name),
    /// CNAME: the owner is an alias of this name (RFC 2317 delegation uses these).
    Cname(Name),
    /// Any other type or class, skipped.
    Other {
        /// TYPE.
        rtype: u16,
        /// CLASS.
        class: u16,
    },
}

/// One record of the answer section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub owner: Name,
    /// TTL in seconds.
    pub ttl: u32,
    /// What it says.
    pub data: RecordData,
}

/// A decoded response: header, question, answer section (authority and additional sections
/// are not needed and not decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The header.
    pub header: Header,
    /// The question, when the server repeated it (servers may leave it out of errors).
    pub question: Option<Question>,
    /// The answer section.
    pub answers: Vec<Record>,
}

impl Response {
    /// Decodes a response.
    pub fn parse(message: &[u8]) -> Result<Response, CodecError> {
        let header = Header::parse(message)?;
        if !header.is_response() {
            return Err(CodecError::NotResponse);
        }
        if header.qdcount > 1 {
            return Err(CodecError::QuestionCount(header.qdcount));
        }
        let mut at = HEADER_LEN;
        let question = if header.qdcount == 1 {
            let (question, end) = parse_question(message, at)?;
            at = end;
            Some(question)
        } else {
            None
        };
        // a record takes at least 11 octets: never reserve more than the bytes can hold
        let room = message.len().saturating_sub(at) / 11;
        let mut answers = Vec::with_capacity(usize::from(header.ancount).min(room));
        for _ in 0..header.ancount {
            let (record, end) = parse_record(message, at)?;
            answers.push(record);
            at = end;
        }
        Ok(Response {
            header,
            question,
            answers,
        })
    }

    /// Whether this answers `query`: same ID, a response to a standard query, and the same
    /// question (or none at all, as some servers send with an error code).
    pub fn answers_query(&self, query: &PtrQuery) -> bool {
        self.answers(query.id, &query.name)
    }

    /// Whether this answers the PTR query with `id` for `name` (see [`Response::answers_query`]).
    pub fn answers(&self, id: u16, name: &Name) -> bool {
        if self.header.id != id || self.header.opcode() != OPCODE_QUERY {
            return false;
        }
        match &self.question {
            Some(q) => &q.name == name && q.qtype == TYPE_PTR && q.qclass == CLASS_IN,
            None => self.header.rcode() != Rcode::NoError,
        }
    }
}

fn read_u16(message: &[u8], at: usize, what: &'static str) -> Result<u16, CodecError> {
    message
        .get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or(CodecError::Truncated { what, offset: at })
}

fn read_u32(message: &[u8], at: usize, what: &'static str) -> Result<u32, CodecError> {
    message
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(CodecError::Truncated { what, offset: at })
}

fn parse_question(message: &[u8], at: usize) -> Result<(Question, usize), CodecError> {
    let (name, at) = Name::parse(message, at)?;
    let qtype = read_u16(message, at, "question type")?;
    let qclass = read_u16(message, at + 2, "question class")?;
    Ok((
        Question {
            name,
            qtype,
            qclass,
        },
        at + 4,
    ))
}

fn parse_record(message: &[u8], at: usize) -> Result<(Record, usize), CodecError> {
    let (owner, at) = Name::parse(message, at)?;
    let rtype = read_u16(message, at, "record type")?;
    let class = read_u16(message, at + 2, "record class")?;
    let ttl = read_u32(message, at + 4, "record TTL")?;
    let rdlength = usize::from(read_u16(message, at + 8, "record RDLENGTH")?);
    let start = at + 10;
    let end = start + rdlength;
    if end > message.len() {
        return Err(CodecError::Truncated {
            what: "record data",
            offset: start,
        });
    }
    let data = match (rtype, class) {
        (TYPE_PTR, CLASS_IN) => RecordData::Ptr(rdata_name(message, start, end, "PTR")?),
        (TYPE_CNAME, CLASS_IN) => RecordData::Cname(rdata_name(message, start, end, "CNAME")?),
        _ => RecordData::Other { rtype, class },
    };
    Ok((Record { owner, ttl, data }, end))
}

/// The name that makes up a record's data, which must end exactly at the data's end.
fn rdata_name(
    message: &[u8],
    start: usize,
    end: usize,
    rtype: &'static str,
) -> Result<Name, CodecError> {
    // pointers may lead anywhere before; the name's own octets must stay inside the data
    let (name, after) = Name::parse(&message[..end], start)?;
    if after != end {
        return Err(CodecError::RdataOverrun {
            rtype,
            offset: start,
        });
    }
    Ok(name)
}

/// What an answer says about the name asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// PTR records for the name (after the CNAMEs of `aliases`, in answer order).
    Names {
        /// The PTR targets.
        names: Vec<Name>,
        /// CNAMEs followed inside this answer, in order.
        aliases: Vec<Name>,
    },
    /// CNAMEs only: the answer ends at `target`, which must be asked for next (a server not
    /// authoritative for the target zone answers like this, RFC 2317).
    Alias {
        /// CNAMEs followed inside this answer; the last one is the name to ask next.
        aliases: Vec<Name>,
    },
    /// The name exists but has no PTR record (NOERROR, nothing for the name).
    NoData {
        /// CNAMEs followed inside this answer.
        aliases: Vec<Name>,
    },
    /// The answer came truncated: ask again over TCP.
    Truncated,
    /// An error code: NXDOMAIN, SERVFAIL, REFUSED, ... (with the CNAMEs before it).
    Rcode {
        /// The code.
        rcode: Rcode,
        /// CNAMEs followed inside this answer (NXDOMAIN then applies to the last, RFC 6604).
        aliases: Vec<Name>,
    },
    /// The CNAMEs of the answer loop or are too many.
    AliasLoop {
        /// The chain until the loop was seen.
        aliases: Vec<Name>,
    },
}

/// The most CNAMEs one lookup follows, inside answers and across queries.
pub const MAX_ALIASES: usize = 8;

impl Response {
    /// Reads the answer to the question `asked`: walks the CNAMEs the answer holds from
    /// `asked`, then takes the PTR records of the last name.
    pub fn interpret(&self, asked: &Name) -> Answer {
        if self.header.truncated() {
            return Answer::Truncated;
        }
        let rcode = self.header.rcode();
        let mut aliases: Vec<Name> = Vec::new();
        let mut current = asked.clone();
        loop {
            let names: Vec<Name> = self
                .answers
                .iter()
                .filter(|r| r.owner == current)
                .filter_map(|r| match &r.data {
                    RecordData::Ptr(n) => Some(n.clone()),
                    _ => None,
                })
                .collect();
            if !names.is_empty() && rcode == Rcode::NoError {
                return Answer::Names { names, aliases };
            }
            let alias = self.answers.iter().find_map(|r| match &r.data {
                RecordData::Cname(target) if r.owner == current => Some(target.clone()),
                _ => None,
            });
            match alias {
                Some(target) => {
                    let seen = &target == asked || aliases.contains(&target);
                    aliases.push(target.clone());
                    if seen || aliases.len() > MAX_ALIASES {
                        return Answer::AliasLoop { aliases };
                    }
                    current = target;
                }
                None if rcode != Rcode::NoError => return Answer::Rcode { rcode, aliases },
                None if aliases.is_empty() => return Answer::NoData { aliases },
                None => return Answer::Alias { aliases },
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Builds a response to `query` by hand: flags, then (owner, type, data) answer records;
    /// names are compressed against the question where they end with it.
    pub(crate) fn response(
        query: &PtrQuery,
        flags: u16,
        answers: &[(&Name, u16, &Name)],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        Header {
            id: query.id,
            flags: FLAG_QR | flags,
            qdcount: 1,
            ancount: answers.len() as u16,
            nscount: 0,
            arcount: 0,
        }
        .emit(&mut out);
        query.name.emit(&mut out);
        out.extend_from_slice(&[0, 12, 0, 1]);
        for (owner, rtype, data) in answers {
            if *owner == &query.name {
                out.extend_from_slice(&[0xC0, 12]);
            } else {
                owner.emit(&mut out);
            }
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&[0, 1, 0, 0, 0x0E, 0x10]);
            out.extend_from_slice(&(data.wire().len() as u16).to_be_bytes());
            data.emit(&mut out);
        }
        out
    }

    fn name(s: &str) -> Name {
        Name::from_dotted(s).unwrap()
    }

    fn query(s: &str) -> PtrQuery {
        PtrQuery {
            id: 0x1234,
            name: name(s),
        }
    }

    #[test]
    fn the_query_is_exact() {
        let q = query("2.1.20.10.in-addr.arpa");
        let bytes = q.emit();
        let mut want = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        want.extend_from_slice(b"\x012\x011\x0220\x0210\x07in-addr\x04arpa\x00");
        want.extend_from_slice(&[0, 12, 0, 1]);
        assert_eq!(bytes, want);
    }

    #[test]
    fn a_ptr_answer_with_compression_is_read() {
        let q = query("2.1.20.10.in-addr.arpa");
        let ptr = name("dev-10-20-1-2.ot.example");
        let bytes = response(&q, 0x0400, &[(&q.name, TYPE_PTR, &ptr)]);
        let r = Response::parse(&bytes).unwrap();
        assert!(r.answers_query(&q));
        assert!(r.header.authoritative());
        assert_eq!(
            r.interpret(&q.name),
            Answer::Names {
                names: vec![ptr],
                aliases: vec![]
            }
        );
        let other = PtrQuery {
            id: 0x1235,
            ..q.clone()
        };
        assert!(!r.answers_query(&other));
        let other = query("3.1.20.10.in-addr.arpa");
        assert!(!r.answers_query(&other));
    }

    #[test]
    fn cname_chains_are_followed_inside_an_answer() {
        let q = query("70.0.21.10.in-addr.arpa");
        let child = name("70.64/26.0.21.10.in-addr.arpa");
        let ptr = name("cell-70.line-4.ot.example");
        let both = response(
            &q,
            0,
            &[(&q.name, TYPE_CNAME, &child), (&child, TYPE_PTR, &ptr)],
        );
        let r = Response::parse(&both).unwrap();
        assert_eq!(
            r.interpret(&q.name),
            Answer::Names {
                names: vec![ptr],
                aliases: vec![child.clone()]
            }
        );
        let only_cname = response(&q, 0, &[(&q.name, TYPE_CNAME, &child)]);
        let r = Response::parse(&only_cname).unwrap();
        assert_eq!(
            r.interpret(&q.name),
            Answer::Alias {
                aliases: vec![child.clone()]
            }
        );
        let nx = response(&q, 3, &[(&q.name, TYPE_CNAME, &child)]);
        assert_eq!(
            Response::parse(&nx).unwrap().interpret(&q.name),
            Answer::Rcode {
                rcode: Rcode::NxDomain,
                aliases: vec![child.clone()]
            }
        );
        let looping = response(
            &q,
            0,
            &[(&q.name, TYPE_CNAME, &child), (&child, TYPE_CNAME, &q.name)],
        );
        assert!(matches!(
            Response::parse(&looping).unwrap().interpret(&q.name),
            Answer::AliasLoop { .. }
        ));
    }

    #[test]
    fn error_codes_and_truncation_are_reported() {
        let q = query("1.0.22.10.in-addr.arpa");
        for (code, rcode) in [
            (2, Rcode::ServFail),
            (3, Rcode::NxDomain),
            (5, Rcode::Refused),
            (9, Rcode::Other(9)),
        ] {
            let r = Response::parse(&response(&q, code, &[])).unwrap();
            assert_eq!(
                r.interpret(&q.name),
                Answer::Rcode {
                    rcode,
                    aliases: vec![]
                }
            );
        }
        let r = Response::parse(&response(&q, 0, &[])).unwrap();
        assert_eq!(r.interpret(&q.name), Answer::NoData { aliases: vec![] });
        let r = Response::parse(&response(&q, 0x0200, &[])).unwrap();
        assert_eq!(r.interpret(&q.name), Answer::Truncated);
        assert_eq!(Rcode::Refused.to_string(), "REFUSED");
    }

    #[test]
    fn several_ptr_records_are_all_kept() {
        let q = query("10.0.21.10.in-addr.arpa");
        let a = name("hmi-10.plant.ot.example");
        let b = name("hmi-10-backup.plant.ot.example");
        let bytes = response(&q, 0, &[(&q.name, TYPE_PTR, &a), (&q.name, TYPE_PTR, &b)]);
        let r = Response::parse(&bytes).unwrap();
        assert_eq!(
            r.interpret(&q.name),
            Answer::Names {
                names: vec![a, b],
                aliases: vec![]
            }
        );
    }

    #[test]
    fn malformed_answers_are_refused() {
        let q = query("2.1.20.10.in-addr.arpa");
        let ptr = name("x.example");
        let good = response(&q, 0, &[(&q.name, TYPE_PTR, &ptr)]);
        for cut in 0..good.len() {
            assert!(Response::parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut query_bytes = q.emit();
        assert_eq!(Response::parse(&query_bytes), Err(CodecError::NotResponse));
        query_bytes[2] |= 0x80;
        query_bytes[5] = 2;
        assert_eq!(
            Response::parse(&query_bytes),
            Err(CodecError::QuestionCount(2))
        );
        // RDLENGTH shorter than the PTR name inside it
        let mut short = good.clone();
        let len_at = short.len() - ptr.wire().len() - 2;
        short[len_at + 1] -= 1;
        assert!(Response::parse(&short).is_err());
    }

    fn any_name() -> impl Strategy<Value = Name> {
        proptest::collection::vec("[a-z0-9/-]{1,12}", 1..6)
            .prop_map(|labels| Name::from_labels(labels).unwrap())
    }

    proptest! {
        #[test]
        fn every_query_is_one_ptr_in_question(id in any::<u16>(), name in any_name()) {
            let bytes = PtrQuery { id, name: name.clone() }.emit();
            let h = Header::parse(&bytes).unwrap();
            prop_assert_eq!(h.id, id);
            prop_assert!(!h.is_response());
            prop_assert_eq!(h.opcode(), OPCODE_QUERY);
            prop_assert!(h.recursion_desired());
            prop_assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 0, 0, 0));
            let (q, end) = parse_question(&bytes, HEADER_LEN).unwrap();
            prop_assert_eq!(q, Question { name, qtype: TYPE_PTR, qclass: CLASS_IN });
            prop_assert_eq!(end, bytes.len());
        }

        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            if let Ok(r) = Response::parse(&bytes) {
                let _ = r.interpret(&Name::root());
            }
        }

        #[test]
        fn mutated_answers_never_panic(
            n in any_name(), ptr in any_name(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        ) {
            let q = PtrQuery { id: 7, name: n };
            let mut bytes = response(&q, 0, &[(&q.name, TYPE_PTR, &ptr), (&q.name, TYPE_CNAME, &ptr)]);
            for (at, b) in flips {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            if let Ok(r) = Response::parse(&bytes) {
                let _ = r.answers_query(&q);
                let _ = r.interpret(&q.name);
            }
        }
    }
}
