//! The form of the `devices.attributes` column: [`Attributes`] as this build serializes it, so
//! that a reader may copy the text into its own JSON as it is ([`crate::ListedDevice`]).
//!
//! The store only ever writes that form. A store written by a build whose form differed (a field
//! since added or renamed) is brought to this form when it opens: every row is read and written
//! again, once, and `PRAGMA user_version` records [`ATTRIBUTES_FORMAT`].

use crate::codec::{from_json, to_json};
use crate::error::Result;
use otsensor_core::device::Attributes;
use sqlx::SqlitePool;

/// The version of [`Attributes`]' JSON form the `attributes` column holds. Raise it whenever
/// that form changes (a field added, renamed, or written differently); the test
/// `the_attribute_form_is_pinned` fails until the example there is updated too.
pub const ATTRIBUTES_FORMAT: i64 = 1;

/// Rows rewritten per statement batch while bringing a store to the current form.
const BATCH: i64 = 1_000;

/// Brings every row's attributes to the current form, unless the store says it holds it.
pub(crate) async fn bring_to_current_form(pool: &SqlitePool) -> Result<()> {
    if stored_format(&mut *pool.acquire().await?).await? >= ATTRIBUTES_FORMAT {
        return Ok(());
    }
    // the write lock first, then the version again: another process opening the store at the
    // same moment does the work once, and this one finds it done
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    if stored_format(&mut tx).await? >= ATTRIBUTES_FORMAT {
        return Ok(());
    }
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, attributes FROM devices WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await?;
        let Some(&(last, _)) = rows.last() else {
            break;
        };
        for (id, text) in rows {
            let current = current_form(&text)?;
            if current != text {
                sqlx::query("UPDATE devices SET attributes = $2 WHERE id = $1")
                    .bind(id)
                    .bind(current)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        after = last;
    }
    sqlx::query(&format!("PRAGMA user_version = {ATTRIBUTES_FORMAT}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The form version the store records.
async fn stored_format(conn: &mut sqlx::SqliteConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("PRAGMA user_version")
        .fetch_one(conn)
        .await?)
}

/// `text` (stored attributes) in the current form.
fn current_form(text: &str) -> Result<String> {
    let attributes: Attributes = from_json(text, "device attributes")?;
    to_json(&attributes, "device attributes")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every attribute set (no `null`, no empty list), in the form [`ATTRIBUTES_FORMAT`] names.
    const EVERY_ATTRIBUTE: &str = concat!(
        r#"{"mac":"00:1b:1b:aa:00:ff","name":"cpu-1","fqdn":"cpu-1.plant.example","#,
        r#""fqdn_looked_up":"2026-01-02T03:04:05Z","type":"plc","vendor":"Siemens","#,
        r#""model":"CPU 1516-3 PN/DP","product_name":"S7-1500","product_code":"6ES7 516-3AN01-0AB0","#,
        r#""firmware":"V2.9.4","hardware":"3","serial":"S C-X4U421302018","plc_mode":"run","#,
        r#""vendor_url":"https://vendor.example","application":"line-3","software_version":"1.2","#,
        r#""location":"hall 3","description":"press line","vendor_id":42,"bacnet_instance":7,"#,
        r#""type_name":"PLC","reported_ip":"127.0.0.20","status":"ok","#,
        r#""os":{"name":"Windows 10","version":"10.0","build":"19045","service_pack":"none","#,
        r#""architecture":"64-bit","installed":"2025-01-02T03:04:05Z","last_boot":"2026-01-02T03:04:05Z"},"#,
        r#""domain":"PLANT","#,
        r#""interfaces":[{"index":1,"name":"eth0","mac":"00:1b:1b:aa:00:fe","addresses":["127.0.0.20"],"#,
        r#""description":"port 1","alias":"uplink","speed_bps":100000000,"if_type":6,"admin_up":true,"#,
        r#""oper_status":"up"}],"#,
        r#""hotfixes":[{"id":"KB5005565","description":"Security Update","installed_on":"2026-01-02"}],"#,
        r#""software":[{"name":"TIA Portal","version":"17","vendor":"Siemens"}],"#,
        r#""protocols":["s7","snmp"],"mac_vendor":"Siemens AG","#,
        r#""neighbors":[{"protocol":"lldp","local_port":"1","local_if_index":1,"chassis_id":"00:1b:1b:aa:00:01","#,
        r#""name":"sw-1","port":"Gi1/0/1","port_description":"uplink","description":"switch","#,
        r#""platform":"IOS","capabilities":["bridge"],"addresses":["127.0.0.2"],"mac":"00:1b:1b:aa:00:01"}],"#,
        r#""seen_on":[{"switch":"127.0.0.2","port":"Gi1/0/3","if_index":3,"vlan":10,"uplink":false}],"#,
        r#""access_port":{"switch":"127.0.0.2","port":"Gi1/0/3","if_index":3,"vlan":10,"uplink":false},"#,
        r#""switch_tables":{"interfaces":1,"entities":2,"arp":3,"arp_physical":4,"fdb":5,"qbridge_fdb":6,"lldp":7,"cdp":8}}"#,
    );

    #[test]
    fn the_attribute_form_is_pinned() {
        assert!(
            !EVERY_ATTRIBUTE.contains("null") && !EVERY_ATTRIBUTE.contains("[]"),
            "the example sets every attribute"
        );
        let written = current_form(EVERY_ATTRIBUTE).unwrap();
        assert_eq!(
            written, EVERY_ATTRIBUTE,
            "Attributes' JSON form changed: raise ATTRIBUTES_FORMAT and update this example"
        );
        assert_eq!(ATTRIBUTES_FORMAT, 1, "the example is the form of version 1");
    }

    /// A store whose rows an older build wrote gets them in the current form when it opens, once.
    #[tokio::test]
    async fn opening_brings_older_rows_to_the_current_form() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(dir.path()).await.unwrap();
        let at = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let mut device = otsensor_core::Device::new("ip:127.0.0.9".parse().unwrap(), at);
        device.attributes.vendor = Some("WAGO".into());
        device
            .attributes
            .protocols
            .insert(otsensor_core::Protocol::Modbus);
        let mut conn = store.pool.acquire().await.unwrap();
        crate::devices::upsert(&mut conn, &device, None)
            .await
            .unwrap();
        drop(conn);
        let older = r#"{"vendor":"WAGO","protocols":["modbus"]}"#;
        sqlx::query("UPDATE devices SET attributes = $1")
            .bind(older)
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("PRAGMA user_version = 0")
            .execute(&store.pool)
            .await
            .unwrap();
        store.close().await;

        let store = crate::Store::open(dir.path()).await.unwrap();
        let (text, version): (String, i64) = sqlx::query_as(
            "SELECT attributes, (SELECT user_version FROM pragma_user_version) FROM devices",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        assert_eq!(text, serde_json::to_string(&device.attributes).unwrap());
        assert_eq!(version, ATTRIBUTES_FORMAT);
    }

    #[test]
    fn an_older_form_is_written_again_in_the_current_one() {
        let older = r#"{"protocols":["modbus"],"vendor":"WAGO"}"#;
        let current = current_form(older).unwrap();
        assert!(
            current.starts_with(r#"{"mac":null,"name":null,"#),
            "{current}"
        );
        assert!(current.contains(r#""vendor":"WAGO""#), "{current}");
        assert_eq!(current_form(&current).unwrap(), current);
    }
}
