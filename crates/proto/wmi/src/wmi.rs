//! MS-WMI calls: IWbemLevel1Login::NTLMLogin, IWbemServices::ExecQuery, IEnumWbemClassObject::Next.
//!
//! Each call is an ORPC request whose stub starts with an ORPCTHIS and whose reply starts with an
//! ORPCTHAT and ends with an HRESULT. These functions build and read the stubs only.

use crate::dcom::{
    self, DcomError, ObjRef, StdObjRef, orpc_that, orpc_this, read_interface_pointer,
};
use crate::ndr::{Reader, Uuid, Writer};
use crate::status::{self, Status};
use crate::wmio::{self, ClassCache, Object};

/// CLSID_WbemLevel1Login: the class activated on the host.
pub const CLSID_WBEM_LEVEL1_LOGIN: Uuid = Uuid::from_u128(0x8BC3F05E_D86B_11D0_A075_00C04FB68820);
/// IWbemLevel1Login.
pub const IID_IWBEM_LEVEL1_LOGIN: Uuid = Uuid::from_u128(0xF309AD18_D86A_11D0_A075_00C04FB68820);
/// IWbemServices.
pub const IID_IWBEM_SERVICES: Uuid = Uuid::from_u128(0x9556DC99_828C_11CF_A37E_00AA003240C7);
/// IEnumWbemClassObject.
pub const IID_IENUM_WBEM_CLASS_OBJECT: Uuid =
    Uuid::from_u128(0x027947E1_D731_11CE_A357_000000000001);
/// CLSID_WbemClassObject: the unmarshaler of IWbemClassObject OBJREFs.
pub const CLSID_WBEM_CLASS_OBJECT: Uuid = Uuid::from_u128(0x4590F812_1D3A_11D0_891F_00AA004B2E24);

/// IWbemLevel1Login::NTLMLogin.
pub const OPNUM_NTLM_LOGIN: u16 = 6;
/// IWbemServices::ExecQuery.
pub const OPNUM_EXEC_QUERY: u16 = 20;
/// IEnumWbemClassObject::Next.
pub const OPNUM_NEXT: u16 = 4;

/// WBEM_FLAG_RETURN_IMMEDIATELY | WBEM_FLAG_FORWARD_ONLY: semisynchronous, forward-only.
pub const EXEC_QUERY_FLAGS: u32 = 0x10 | 0x20;
/// WBEM_INFINITE: Next waits until the batch is full or the enumeration ends.
pub const WBEM_INFINITE: u32 = 0xffff_ffff;
/// The namespace logged in to.
pub const NAMESPACE: &str = "//./root/cimv2";
/// Most objects one Next reply is read for.
const MAX_BATCH: usize = 10_000;

/// The stub of NTLMLogin to `namespace` (no locale, no context).
pub fn ntlm_login(cid: &Uuid, namespace: &str) -> Vec<u8> {
    let mut w = Writer::new();
    orpc_this(&mut w, cid);
    w.pointer();
    w.wide_string(namespace);
    w.null(); // wszPreferredLocale
    w.u32(0); // lFlags
    w.null(); // pCtx
    w.into_bytes()
}

fn read_objref_reply(
    call: &'static str,
    stub: &[u8],
    what: &'static str,
) -> Result<StdObjRef, DcomError> {
    dcom::check_hresult(call, stub)?;
    let mut r = Reader::new(stub);
    orpc_that(&mut r)?;
    if r.pointer(what)? == 0 {
        return Err(DcomError::Bad {
            what,
            detail: "null interface pointer".into(),
        });
    }
    ObjRef::parse(read_interface_pointer(&mut r)?)?
        .standard()
        .copied()
        .ok_or_else(|| DcomError::Bad {
            what,
            detail: "not a standard OBJREF".into(),
        })
}

/// Reads the reply of NTLMLogin: the IWbemServices of the namespace.
pub fn parse_ntlm_login(stub: &[u8]) -> Result<StdObjRef, DcomError> {
    read_objref_reply("IWbemLevel1Login::NTLMLogin", stub, "ppNamespace")
}

/// Writes a BSTR (a unique pointer to a FLAGGED_WORD_BLOB), with its terminating NUL.
fn bstr(w: &mut Writer, s: &str) {
    let units: Vec<u16> = s.encode_utf16().chain(std::iter::once(0)).collect();
    let n = units.len() as u32;
    w.pointer();
    w.u32(n); // conformance
    w.u32(n * 2); // cBytes
    w.u32(n); // clSize
    for u in units {
        w.u16(u);
    }
}

/// The stub of ExecQuery for a WQL query.
pub fn exec_query(cid: &Uuid, wql: &str) -> Vec<u8> {
    let mut w = Writer::new();
    orpc_this(&mut w, cid);
    bstr(&mut w, "WQL");
    bstr(&mut w, wql);
    w.u32(EXEC_QUERY_FLAGS);
    w.null(); // pCtx
    w.into_bytes()
}

/// Reads the reply of ExecQuery: the enumerator of the results.
pub fn parse_exec_query(stub: &[u8]) -> Result<StdObjRef, DcomError> {
    read_objref_reply("IWbemServices::ExecQuery", stub, "ppEnum")
}

/// The stub of IEnumWbemClassObject::Next for up to `count` objects.
pub fn next(cid: &Uuid, timeout: u32, count: u32) -> Vec<u8> {
    let mut w = Writer::new();
    orpc_this(&mut w, cid);
    w.u32(timeout);
    w.u32(count);
    w.into_bytes()
}

/// One batch of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The objects, decoded.
    pub objects: Vec<Object>,
    /// WBEM_S_NO_ERROR (more may follow), WBEM_S_FALSE (the end) or WBEM_S_TIMEDOUT.
    pub status: Status,
}

impl Batch {
    /// Whether the enumeration is over.
    pub fn is_last(&self) -> bool {
        self.status.0 == status::WBEM_S_FALSE
    }
}

/// Reads the reply of Next, decoding each object (class parts shared through `cache`).
pub fn parse_next(stub: &[u8], cache: &mut ClassCache) -> Result<Batch, NextError> {
    let status = dcom::check_hresult("IEnumWbemClassObject::Next", stub)?;
    let mut r = Reader::new(stub);
    orpc_that(&mut r)?;
    let _max = r.u32("apObjects max count")?;
    let _offset = r.u32("apObjects offset")?;
    let n = r.count(4, "apObjects count")?;
    if n > MAX_BATCH {
        return Err(DcomError::Bad {
            what: "Next reply",
            detail: format!("{n} objects in one batch"),
        }
        .into());
    }
    let mut present = Vec::with_capacity(n);
    for _ in 0..n {
        present.push(r.pointer("apObjects")? != 0);
    }
    let mut objects = Vec::with_capacity(n);
    for p in present {
        if !p {
            continue;
        }
        let data = read_interface_pointer(&mut r)?;
        match ObjRef::parse(data)? {
            ObjRef::Custom { data, .. } => objects.push(wmio::decode(&data, cache)?),
            ObjRef::Standard { .. } => {
                return Err(DcomError::Bad {
                    what: "Next reply",
                    detail: "an object marshaled by reference, not by value".into(),
                }
                .into());
            }
        }
    }
    let returned = r.u32("puReturned")? as usize;
    if returned != objects.len() {
        return Err(DcomError::Bad {
            what: "Next reply",
            detail: format!("{returned} objects announced, {} sent", objects.len()),
        }
        .into());
    }
    Ok(Batch { objects, status })
}

/// Why a Next reply could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NextError {
    /// The DCOM layer.
    #[error(transparent)]
    Dcom(#[from] DcomError),
    /// An object could not be decoded.
    #[error(transparent)]
    Wmio(#[from] wmio::WmioError),
}

impl From<crate::ndr::NdrError> for NextError {
    fn from(e: crate::ndr::NdrError) -> NextError {
        NextError::Dcom(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcom::tests::std_objref;
    use crate::dcom::write_interface_pointer;
    use crate::wmio::Value;
    use crate::wmio::tests::encode_instance;
    use proptest::prelude::*;

    fn objref_reply(ipid: &Uuid) -> Vec<u8> {
        let mut w = Writer::new();
        w.u32(0);
        w.null();
        write_interface_pointer(&mut w, &std_objref(&IID_IWBEM_SERVICES, ipid));
        w.u32(0);
        w.into_bytes()
    }

    pub(crate) fn next_reply(rows: &[Vec<u8>], hr: u32) -> Vec<u8> {
        let mut w = Writer::new();
        w.u32(0);
        w.null();
        w.u32(rows.len() as u32);
        w.u32(0);
        w.u32(rows.len() as u32);
        for _ in rows {
            w.pointer();
        }
        for row in rows {
            let o = ObjRef::custom_bytes(
                &Uuid::from_u128(0xDC12A681_737F_11CF_884D_00AA004B2E24),
                &CLSID_WBEM_CLASS_OBJECT,
                row,
            );
            w.u32(o.len() as u32);
            w.u32(o.len() as u32);
            w.bytes(&o);
        }
        w.u32(rows.len() as u32);
        w.u32(hr);
        w.into_bytes()
    }

    #[test]
    fn login_and_query_replies_give_the_next_interface() {
        let ipid = Uuid::from_u128(0xA3);
        assert_eq!(parse_ntlm_login(&objref_reply(&ipid)).unwrap().ipid, ipid);
        assert_eq!(parse_exec_query(&objref_reply(&ipid)).unwrap().ipid, ipid);
    }

    #[test]
    fn a_wbem_failure_is_named() {
        let mut w = Writer::new();
        w.u32(0);
        w.null();
        w.null();
        w.u32(0x8004_1010);
        let e = parse_exec_query(&w.into_bytes()).unwrap_err();
        assert!(e.to_string().contains("WBEM_E_INVALID_CLASS"), "{e}");
    }

    #[test]
    fn requests_carry_their_strings() {
        let s = exec_query(&Uuid::default(), "SELECT * FROM Win32_BIOS");
        let wql: Vec<u8> = crate::ndr::utf16le("SELECT * FROM Win32_BIOS\0");
        assert!(s.windows(wql.len()).any(|w| w == wql.as_slice()));
        let s = ntlm_login(&Uuid::default(), NAMESPACE);
        assert!(
            s.windows(6)
                .any(|w| w == crate::ndr::utf16le("//.").as_slice())
        );
    }

    #[test]
    fn a_batch_of_rows_decodes_and_says_whether_it_is_the_last() {
        let rows: Vec<Vec<u8>> = ["KB1", "KB2"]
            .iter()
            .map(|kb| {
                encode_instance(
                    "Win32_QuickFixEngineering",
                    &[("HotFixID", 8, Some(Value::String((*kb).into())))],
                    &[],
                )
            })
            .collect();
        let mut cache = ClassCache::new();
        let b = parse_next(&next_reply(&rows, 1), &mut cache).unwrap();
        assert!(b.is_last());
        assert_eq!(
            b.objects
                .iter()
                .map(|o| o.text("HotFixID").unwrap())
                .collect::<Vec<_>>(),
            ["KB1", "KB2"]
        );
        assert_eq!(cache.hits(), 1);
        let b = parse_next(&next_reply(&rows, 0), &mut cache).unwrap();
        assert!(!b.is_last());
    }

    proptest! {
        #[test]
        fn reply_decoders_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_ntlm_login(&data);
            let _ = parse_exec_query(&data);
            let _ = parse_next(&data, &mut ClassCache::new());
        }

        #[test]
        fn mutated_next_replies_never_panic(at in 0usize..1000, byte in any::<u8>()) {
            let row = encode_instance("C", &[("P", 8, Some(Value::String("v".into())))], &[]);
            let mut stub = next_reply(&[row], 1);
            let i = at % stub.len();
            stub[i] = byte;
            let _ = parse_next(&stub, &mut ClassCache::new());
        }
    }
}
