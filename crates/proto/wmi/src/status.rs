//! Status codes named for people: RPC fault statuses, COM HRESULTs and WBEM codes (MS-WMI 2.2.11).

use std::fmt;

/// A 32-bit status from a FAULT PDU, an HRESULT or a WBEM call, shown with its name.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub u32);

/// rpc_s_access_denied / ERROR_ACCESS_DENIED.
pub const ACCESS_DENIED: u32 = 0x0000_0005;
/// E_ACCESSDENIED.
pub const E_ACCESSDENIED: u32 = 0x8007_0005;
/// E_NOINTERFACE.
pub const E_NOINTERFACE: u32 = 0x8000_4002;
/// WBEM_S_FALSE: fewer objects than asked, the enumeration is over.
pub const WBEM_S_FALSE: u32 = 0x0000_0001;
/// WBEM_S_TIMEDOUT: no object within the call's time-out; ask again.
pub const WBEM_S_TIMEDOUT: u32 = 0x0004_0004;
/// RPC_S_SERVER_UNAVAILABLE as an HRESULT.
pub const RPC_SERVER_UNAVAILABLE: u32 = 0x8007_06BA;
/// nca_s_op_rng_error: the server does not have that operation.
pub const NCA_S_OP_RNG_ERROR: u32 = 0x1C01_0002;
/// nca_s_unk_if: the server does not know that interface.
pub const NCA_S_UNK_IF: u32 = 0x1C01_0003;

const NAMES: &[(u32, &str, &str)] = &[
    (0x0000_0000, "S_OK", "success"),
    (0x0000_0001, "WBEM_S_FALSE", "no more objects"),
    (
        0x0004_0004,
        "WBEM_S_TIMEDOUT",
        "no object within the time-out",
    ),
    (0x0000_0005, "rpc_s_access_denied", "access denied"),
    (
        0x0000_06BA,
        "RPC_S_SERVER_UNAVAILABLE",
        "the RPC server is unavailable",
    ),
    (
        0x0000_06D1,
        "RPC_S_PROCNUM_OUT_OF_RANGE",
        "the procedure number is out of range",
    ),
    (
        0x0000_06F7,
        "RPC_X_BAD_STUB_DATA",
        "the stub received bad data",
    ),
    (
        0x0000_0721,
        "RPC_S_SEC_PKG_ERROR",
        "a security package error occurred",
    ),
    (
        0x0000_052E,
        "ERROR_LOGON_FAILURE",
        "logon failure: unknown user name or bad password",
    ),
    (0x1C01_0001, "nca_s_comm_failure", "communications failure"),
    (
        0x1C01_0002,
        "nca_s_op_rng_error",
        "the server does not have that operation",
    ),
    (
        0x1C01_0003,
        "nca_s_unk_if",
        "the server does not know that interface",
    ),
    (0x1C01_000B, "nca_s_proto_error", "protocol error"),
    (
        0x1C01_0013,
        "nca_s_out_args_too_big",
        "the reply is too big",
    ),
    (
        0x1C01_0014,
        "nca_s_server_too_busy",
        "the server is too busy",
    ),
    (0x8000_4001, "E_NOTIMPL", "not implemented"),
    (0x8000_4002, "E_NOINTERFACE", "no such interface"),
    (0x8000_4005, "E_FAIL", "unspecified failure"),
    (0x8000_FFFF, "E_UNEXPECTED", "unexpected failure"),
    (
        0x8001_0108,
        "RPC_E_DISCONNECTED",
        "the object disconnected from its clients",
    ),
    (
        0x8001_011B,
        "RPC_E_ACCESS_DENIED",
        "access denied by the server's COM security",
    ),
    (
        0x8004_0154,
        "REGDB_E_CLASSNOTREG",
        "the class is not registered",
    ),
    (0x8007_0005, "E_ACCESSDENIED", "access denied"),
    (0x8007_000E, "E_OUTOFMEMORY", "out of memory"),
    (0x8007_0057, "E_INVALIDARG", "invalid argument"),
    (
        0x8007_052E,
        "ERROR_LOGON_FAILURE",
        "logon failure: unknown user name or bad password",
    ),
    (
        0x8007_06BA,
        "RPC_S_SERVER_UNAVAILABLE",
        "the RPC server is unavailable",
    ),
    (
        0x8007_06BE,
        "RPC_S_CALL_FAILED",
        "the remote procedure call failed",
    ),
    (
        0x8007_0721,
        "RPC_S_SEC_PKG_ERROR",
        "a security package error occurred",
    ),
    (
        0x8008_0005,
        "CO_E_SERVER_EXEC_FAILURE",
        "the server process could not be started",
    ),
    (0x8004_1001, "WBEM_E_FAILED", "call failed"),
    (0x8004_1002, "WBEM_E_NOT_FOUND", "object not found"),
    (0x8004_1003, "WBEM_E_ACCESS_DENIED", "access denied"),
    (0x8004_1004, "WBEM_E_PROVIDER_FAILURE", "provider failure"),
    (0x8004_1005, "WBEM_E_TYPE_MISMATCH", "type mismatch"),
    (0x8004_1006, "WBEM_E_OUT_OF_MEMORY", "out of memory"),
    (0x8004_1007, "WBEM_E_INVALID_CONTEXT", "invalid context"),
    (0x8004_1008, "WBEM_E_INVALID_PARAMETER", "invalid parameter"),
    (
        0x8004_1009,
        "WBEM_E_NOT_AVAILABLE",
        "resource not available",
    ),
    (0x8004_100A, "WBEM_E_CRITICAL_ERROR", "critical error"),
    (0x8004_100C, "WBEM_E_NOT_SUPPORTED", "not supported"),
    (
        0x8004_100D,
        "WBEM_E_INVALID_SUPERCLASS",
        "invalid superclass",
    ),
    (0x8004_100E, "WBEM_E_INVALID_NAMESPACE", "invalid namespace"),
    (0x8004_100F, "WBEM_E_INVALID_OBJECT", "invalid object"),
    (0x8004_1010, "WBEM_E_INVALID_CLASS", "invalid class"),
    (
        0x8004_1011,
        "WBEM_E_PROVIDER_NOT_FOUND",
        "provider not found",
    ),
    (
        0x8004_1013,
        "WBEM_E_PROVIDER_LOAD_FAILURE",
        "provider load failure",
    ),
    (
        0x8004_1014,
        "WBEM_E_INITIALIZATION_FAILURE",
        "initialization failure",
    ),
    (0x8004_1015, "WBEM_E_TRANSPORT_FAILURE", "transport failure"),
    (0x8004_1016, "WBEM_E_INVALID_OPERATION", "invalid operation"),
    (0x8004_1017, "WBEM_E_INVALID_QUERY", "invalid query"),
    (
        0x8004_1018,
        "WBEM_E_INVALID_QUERY_TYPE",
        "invalid query language",
    ),
    (0x8004_101D, "WBEM_E_UNEXPECTED", "unexpected"),
    (
        0x8004_1024,
        "WBEM_E_PROVIDER_NOT_CAPABLE",
        "the provider cannot do that",
    ),
    (0x8004_1031, "WBEM_E_INVALID_PROPERTY", "invalid property"),
    (0x8004_1032, "WBEM_E_CALL_CANCELLED", "call cancelled"),
    (0x8004_1033, "WBEM_E_SHUTTING_DOWN", "WMI is shutting down"),
    (
        0x8004_1045,
        "WBEM_E_SERVER_TOO_BUSY",
        "the WMI server is too busy",
    ),
    (
        0x8004_1058,
        "WBEM_E_UNPARSABLE_QUERY",
        "the query cannot be parsed",
    ),
    (
        0x8004_1062,
        "WBEM_E_PRIVILEGE_NOT_HELD",
        "a required privilege is not held",
    ),
    (0x8004_106C, "WBEM_E_QUOTA_VIOLATION", "WMI quota exceeded"),
    (
        0x8004_1087,
        "WBEM_E_ENCRYPTED_CONNECTION_REQUIRED",
        "an encrypted connection is required",
    ),
    (
        0x8004_1088,
        "WBEM_E_PROVIDER_TIMED_OUT",
        "the provider timed out",
    ),
    (0x8004_3001, "WBEM_E_TIMED_OUT", "timed out"),
];

impl Status {
    /// The symbolic name, when known.
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|(c, ..)| *c == self.0)
            .map(|(_, n, _)| *n)
    }

    /// What it means, when known.
    pub fn meaning(self) -> Option<&'static str> {
        NAMES.iter().find(|(c, ..)| *c == self.0).map(|(.., m)| *m)
    }

    /// Whether it is a failure (severity bit, or a non-HRESULT RPC status other than 0 and 1).
    pub fn is_failure(self) -> bool {
        self.0 & 0x8000_0000 != 0
    }

    /// Whether it says access was denied (RPC, COM or WBEM flavour).
    pub fn is_access_denied(self) -> bool {
        matches!(
            self.0,
            ACCESS_DENIED | E_ACCESSDENIED | 0x8004_1003 | 0x8001_011B
        )
    }

    /// Whether it says the logon failed (bad user name or password).
    pub fn is_logon_failure(self) -> bool {
        matches!(self.0, 0x0000_052E | 0x8007_052E)
    }
}

impl fmt::Display for Status {
    /// `0x80041003 WBEM_E_ACCESS_DENIED (access denied)`, or the number alone when unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)?;
        if let (Some(n), Some(m)) = (self.name(), self.meaning()) {
            write!(f, " {n} ({m})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_show_their_names() {
        assert_eq!(
            Status(0x800706BA).to_string(),
            "0x800706ba RPC_S_SERVER_UNAVAILABLE (the RPC server is unavailable)"
        );
        assert_eq!(
            Status(0x80041003).to_string(),
            "0x80041003 WBEM_E_ACCESS_DENIED (access denied)"
        );
        assert_eq!(Status(0x12345678).to_string(), "0x12345678");
        assert!(Status(5).is_access_denied());
        assert!(Status(0x8007052E).is_logon_failure());
    }
}
