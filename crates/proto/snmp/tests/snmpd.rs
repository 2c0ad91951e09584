//! The client against net-snmp's snmpd (testbed peer `snmpd`): every version and security
//! level, every authentication and privacy algorithm, and each wrong credential reported as what
//! it is. Expected values come from testbed/config.sh, which the peer was started with.

use otsensor_core::probe::Unpaced;
use otsensor_snmp::discovery::read_system;
use otsensor_snmp::walk::{BulkSize, WalkOptions, walk_subtree};
use otsensor_snmp::{
    AuthProtocol, Client, ClientConfig, ClientError, Oid, PrivProtocol, Secret, Security, UsmUser,
    Version,
};
use otsensor_testkit::{addr, require_snmp_peer, snmpbulkwalk, var};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

fn agent() -> SocketAddr {
    let a = addr("SNMPD_IP", "SNMPD_PORT");
    require_snmp_peer(a, &var("SNMPD_COMMUNITY"), "snmpd");
    a
}

async fn client(security: Security) -> Client {
    Client::open(
        agent(),
        ClientConfig {
            security,
            timeout: Duration::from_secs(3),
            retries: 1,
        },
        Arc::new(Unpaced),
    )
    .await
    .unwrap()
}

fn community(version: Version, community: &str) -> Security {
    Security::Community {
        version,
        community: Secret::new(community),
    }
}

fn user(
    name: &str,
    auth: Option<(AuthProtocol, &str)>,
    privacy: Option<(PrivProtocol, &str)>,
) -> Security {
    Security::Usm {
        user: UsmUser {
            name: name.into(),
            auth: auth.map(|(p, s)| (p, Secret::new(s))),
            privacy: privacy.map(|(p, s)| (p, Secret::new(s))),
        },
        context: String::new(),
    }
}

fn opsv3(auth_pass: &str, priv_pass: &str) -> Security {
    user(
        &var("SNMPD_V3_USER"),
        Some((AuthProtocol::Sha1, auth_pass)),
        Some((PrivProtocol::Aes128, priv_pass)),
    )
}

/// The system group answers with the configured identity.
async fn assert_identity(security: Security) {
    let what = format!("{security:?}");
    let mut c = client(security).await;
    let sys = read_system(&mut c)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(
        sys.name.as_deref(),
        Some(var("SNMPD_SYSNAME").as_str()),
        "{what}"
    );
    assert_eq!(
        sys.location.as_deref(),
        Some(var("SNMPD_SYSLOCATION").as_str()),
        "{what}"
    );
    assert_eq!(
        sys.contact.as_deref(),
        Some(var("SNMPD_SYSCONTACT").as_str()),
        "{what}"
    );
    assert!(
        sys.descr
            .as_deref()
            .unwrap_or_default()
            .contains(&var("SNMPD_SYSNAME")),
        "{what}"
    );
}

#[tokio::test]
async fn v1_and_v2c_read_the_configured_identity() {
    assert_identity(community(Version::V1, &var("SNMPD_COMMUNITY"))).await;
    assert_identity(community(Version::V2c, &var("SNMPD_COMMUNITY"))).await;
}

#[tokio::test]
async fn every_v3_security_level_reads_the_configured_identity() {
    assert_identity(user(&var("SNMPD_V3_NOAUTH_USER"), None, None)).await;
    assert_identity(user(
        &var("SNMPD_V3_AUTHONLY_USER"),
        Some((AuthProtocol::Sha256, &var("SNMPD_V3_AUTH"))),
        None,
    ))
    .await;
    assert_identity(opsv3(&var("SNMPD_V3_AUTH"), &var("SNMPD_V3_PRIV"))).await;
}

#[tokio::test]
async fn every_auth_and_privacy_algorithm_pair_works() {
    // SNMPD_V3_ALGO_USERS: NAME:AUTH:PRIV, written as net-snmp spells the protocols
    let users = var("SNMPD_V3_ALGO_USERS");
    let mut seen_auth = Vec::new();
    let mut seen_priv = Vec::new();
    for entry in users.split_whitespace() {
        let mut parts = entry.split(':');
        let (name, auth, privacy) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let auth: AuthProtocol = auth.parse().unwrap();
        let privacy: PrivProtocol = privacy.parse().unwrap();
        seen_auth.push(auth);
        seen_priv.push(privacy);
        assert_identity(user(
            name,
            Some((auth, &var("SNMPD_V3_AUTH"))),
            Some((privacy, &var("SNMPD_V3_PRIV"))),
        ))
        .await;
    }
    for a in AuthProtocol::ALL {
        assert!(seen_auth.contains(&a), "{a} untested");
    }
    for p in PrivProtocol::ALL {
        assert!(seen_priv.contains(&p), "{p} untested");
    }
}

#[tokio::test]
async fn v1_v2c_and_v3_walks_return_what_snmpbulkwalk_returns() {
    let root = "1.3.6.1.2.1.1";
    let expected = snmpbulkwalk(
        &["-v2c", "-c", &var("SNMPD_COMMUNITY"), &agent().to_string()],
        root,
    );
    let oid: Oid = root.parse().unwrap();
    for security in [
        community(Version::V1, &var("SNMPD_COMMUNITY")),
        community(Version::V2c, &var("SNMPD_COMMUNITY")),
        opsv3(&var("SNMPD_V3_AUTH"), &var("SNMPD_V3_PRIV")),
    ] {
        let what = format!("{security:?}");
        let mut c = client(security).await;
        let (rows, notes) = walk_subtree(
            &mut c,
            &mut BulkSize::default(),
            &oid,
            WalkOptions::default(),
        )
        .await
        .unwrap();
        assert!(notes.is_empty(), "{what}: {notes:?}");
        let got: Vec<String> = rows
            .iter()
            .map(|(index, _)| oid.child(index).to_string())
            .collect();
        let want: Vec<String> = expected.iter().map(|(o, _)| o.clone()).collect();
        assert_eq!(got, want, "{what}");
    }
}

#[tokio::test]
async fn a_wrong_community_is_a_timeout_that_says_so() {
    let mut c = client(community(Version::V2c, "not-the-community")).await;
    let e = read_system(&mut c).await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("no answer") && text.contains("wrong community"),
        "{text}"
    );
    assert_eq!(c.stats().sent, 2, "one retry");
}

#[tokio::test]
async fn an_unknown_v3_user_is_reported_as_such() {
    let mut c = client(user(
        "no-such-user",
        Some((AuthProtocol::Sha1, &var("SNMPD_V3_AUTH"))),
        Some((PrivProtocol::Aes128, &var("SNMPD_V3_PRIV"))),
    ))
    .await;
    let e = read_system(&mut c).await.unwrap_err();
    assert!(matches!(e, ClientError::UnknownUser { .. }), "{e}");
    assert!(e.to_string().contains("\"no-such-user\" is unknown"), "{e}");
}

#[tokio::test]
async fn a_wrong_auth_password_is_reported_as_such() {
    let mut c = client(opsv3("wrong-auth-password", &var("SNMPD_V3_PRIV"))).await;
    let e = read_system(&mut c).await.unwrap_err();
    assert!(matches!(e, ClientError::WrongDigest { .. }), "{e}");
    assert!(
        e.to_string().contains("wrong authentication password"),
        "{e}"
    );
}

#[tokio::test]
async fn a_wrong_priv_password_is_reported_as_such() {
    // net-snmp drops what it cannot decrypt; the authNoPriv check names the privacy password
    let mut c = client(opsv3(&var("SNMPD_V3_AUTH"), "wrong-priv-password")).await;
    let e = read_system(&mut c).await.unwrap_err();
    assert!(matches!(e, ClientError::PrivacyRejected { .. }), "{e}");
    assert!(e.to_string().contains("wrong privacy password"), "{e}");
}

#[tokio::test]
async fn a_security_level_below_the_users_is_refused_as_access_denied() {
    // opsv3 may read at authPriv only
    let mut c = client(user(
        &var("SNMPD_V3_USER"),
        Some((AuthProtocol::Sha1, &var("SNMPD_V3_AUTH"))),
        None,
    ))
    .await;
    let e = read_system(&mut c).await.unwrap_err();
    assert!(matches!(e, ClientError::AccessDenied { .. }), "{e}");
}

#[tokio::test]
async fn short_passwords_are_refused_before_anything_is_sent() {
    let e = Client::open(
        agent(),
        ClientConfig {
            security: opsv3("short", &var("SNMPD_V3_PRIV")),
            timeout: Duration::from_secs(1),
            retries: 0,
        },
        Arc::new(Unpaced),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("at least 8 characters"), "{e}");
}
