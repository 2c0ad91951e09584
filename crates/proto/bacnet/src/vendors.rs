//! Names for BACnet vendor identifiers, from the ASHRAE registry of vendor IDs.
//!
//! The registry (bacnet.org, "BACnet Vendor IDs") grows and renames entries over time; this table
//! holds the entries known reliably here: identifiers 0 to 146 and widely seen vendors above, in
//! the registry's current spelling. An identifier not in it has no name ([`vendor_name`] is None);
//! the probe then falls back to the device's own Vendor_Name property or the bare number.

/// (vendor identifier, registered name), sorted by identifier.
static VENDORS: &[(u16, &str)] = &[
    (0, "ASHRAE"),
    (1, "NIST"),
    (2, "The Trane Company"),
    (3, "McQuay International"),
    (4, "PolarSoft"),
    (5, "Johnson Controls, Inc."),
    (6, "American Auto-Matrix"),
    (
        7,
        "Siemens Schweiz AG (Formerly: Landis & Staefa Division Europe)",
    ),
    (8, "Delta Controls"),
    (9, "Siemens Schweiz AG"),
    (10, "Schneider Electric"),
    (11, "TAC"),
    (12, "Orion Analysis Corporation"),
    (13, "Teletrol Systems Inc."),
    (14, "Cimetrics Technology"),
    (15, "Cornell University"),
    (16, "United Technologies Carrier"),
    (17, "Honeywell Inc."),
    (18, "Alerton / Honeywell"),
    (19, "TAC AB"),
    (20, "Hewlett-Packard Company"),
    (21, "Dorsette's Inc."),
    (22, "Siemens Schweiz AG (Formerly: Cerberus AG)"),
    (23, "York Controls Group"),
    (24, "Automated Logic Corporation"),
    (25, "CSI Control Systems International"),
    (26, "Phoenix Controls Corporation"),
    (27, "Innovex Technologies, Inc."),
    (28, "KMC Controls, Inc."),
    (29, "Xn Technologies, Inc."),
    (30, "Hyundai Information Technology Co., Ltd."),
    (31, "Tokimec Inc."),
    (32, "Simplex"),
    (33, "North Building Technologies Limited"),
    (34, "Notifier"),
    (35, "Reliable Controls Corporation"),
    (36, "Tridium Inc."),
    (37, "Sierra Monitor Corporation/FieldServer Technologies"),
    (38, "Silicon Energy"),
    (39, "Kieback & Peter GmbH & Co KG"),
    (40, "Anacon Systems, Inc."),
    (41, "Systems Controls & Instruments, LLC"),
    (42, "Acuity Brands Lighting, Inc."),
    (43, "Micropower Manufacturing"),
    (44, "Matrix Controls"),
    (45, "METALAIRE"),
    (46, "ESS Engineering"),
    (47, "Sphere Systems Pty Ltd."),
    (48, "Walker Technologies Corporation"),
    (49, "H I Solutions, Inc."),
    (50, "MBS GmbH"),
    (51, "SAMSON AG"),
    (52, "Badger Meter Inc."),
    (53, "DAIKIN Industries Ltd."),
    (54, "NARA Controls Inc."),
    (55, "Mammoth Inc."),
    (56, "Liebert Corporation"),
    (57, "SEMCO Incorporated"),
    (58, "Air Monitor Corporation"),
    (59, "TRIATEK, LLC"),
    (60, "NexLight"),
    (61, "Multistack"),
    (62, "TSI Incorporated"),
    (63, "Weather-Rite, Inc."),
    (64, "Dunham-Bush"),
    (65, "Reliance Electric"),
    (66, "LCS Inc."),
    (67, "Regulator Australia PTY Ltd."),
    (68, "Touch-Plate Lighting Controls"),
    (69, "Amann GmbH"),
    (70, "RLE Technologies"),
    (71, "Cardkey Systems"),
    (72, "SECOM Co., Ltd."),
    (73, "ABB Gebäudetechnik AG Bereich NetServ"),
    (74, "KNX Association cvba"),
    (
        75,
        "Institute of Electrical Installation Engineers of Japan (IEIEJ)",
    ),
    (76, "Nohmi Bosai, Ltd."),
    (77, "Carel S.p.A."),
    (79, "Hochiki Corporation"),
    (80, "Fr. Sauter AG"),
    (81, "Matsushita Electric Works, Ltd."),
    (82, "Mitsubishi Electric Corporation, Inazawa Works"),
    (83, "Mitsubishi Heavy Industries, Ltd."),
    (85, "Yamatake Building Systems Co., Ltd."),
    (86, "The Watt Stopper, Inc."),
    (87, "Aichi Tokei Denki Co., Ltd."),
    (88, "Activation Technologies, LLC"),
    (89, "Saia-Burgess Controls, Ltd."),
    (90, "Hitachi, Ltd."),
    (91, "Novar Corp./Trend Control Systems Ltd."),
    (92, "Mitsubishi Electric Lighting Corporation"),
    (93, "Argus Control Systems, Ltd."),
    (94, "Kyuki Corporation"),
    (95, "Richards-Zeta Building Intelligence, Inc."),
    (96, "Scientech R&D, Inc."),
    (97, "VCI Controls, Inc."),
    (98, "Toshiba Corporation"),
    (
        99,
        "Mitsubishi Electric Corporation Air Conditioning & Refrigeration Systems Works",
    ),
    (100, "Custom Mechanical Equipment, LLC"),
    (101, "ClimateMaster"),
    (102, "ICP Panel-Tec, Inc."),
    (103, "D-Tek Controls"),
    (104, "NEC Engineering, Ltd."),
    (105, "PRIVA BV"),
    (106, "Meidensha Corporation"),
    (107, "JCI Systems Integration Services"),
    (108, "Freedom Corporation"),
    (109, "Neuberger Gebäudeautomation GmbH"),
    (111, "Leviton Manufacturing"),
    (112, "Fujitsu Limited"),
    (114, "S. A. Armstrong, Ltd."),
    (115, "Visonet AG"),
    (116, "M&M Systems, Inc."),
    (117, "Custom Software Engineering"),
    (118, "Nittan Company, Limited"),
    (119, "Elutions Inc. (Wizcon Systems SAS)"),
    (120, "Pacom Systems Pty., Ltd."),
    (121, "Unico, Inc."),
    (122, "Ebtron, Inc."),
    (123, "Scada Engine"),
    (125, "Eagle Technology"),
    (126, "Data Aire, Inc."),
    (127, "ABB, Inc."),
    (128, "Transbit Sp. z o. o."),
    (129, "Toshiba Carrier Corporation"),
    (130, "Shenzhen Junzhi Hi-Tech Co., Ltd."),
    (131, "Tokai Soft"),
    (132, "Blue Ridge Technologies"),
    (133, "Veris Industries"),
    (134, "Centaurus Prime"),
    (135, "Sand Network Systems"),
    (136, "Regulvar, Inc."),
    (137, "AFDtek Division of Fastek International Inc."),
    (138, "PowerCold Comfort Air Solutions, Inc."),
    (139, "I Controls"),
    (140, "Viconics Electronics, Inc."),
    (141, "Yaskawa America, Inc."),
    (142, "DEOS control systems GmbH"),
    (143, "Digitale Mess- und Steuersysteme AG"),
    (144, "Fujitsu General Limited"),
    (145, "Project Engineering S.r.l."),
    (146, "Sanyo Electric Co., Ltd."),
    (160, "Rockwell Automation"),
    (176, "Lutron Electronics Co., Inc."),
    (178, "LOYTEC Electronics GmbH"),
    (190, "Danfoss Drives A/S"),
    (191, "Eaton Corporation"),
    (196, "Yokogawa Electric Corporation"),
    (222, "WAGO Kontakttechnik GmbH & Co. KG"),
    (226, "Phoenix Contact GmbH & Co. KG"),
    (245, "Contemporary Control Systems, Inc."),
    (255, "Lennox International, Inc."),
    (260, "BACnet Stack at SourceForge"),
    (264, "Regin AB"),
    (332, "Distech Controls SAS"),
    (364, "Distech Controls, Inc."),
    (389, "Chipkin Automation Systems"),
    (396, "Thermokon Sensortechnik GmbH"),
    (415, "Beckhoff Automation GmbH"),
    (423, "BELIMO Automation AG"),
    (432, "LG Electronics Inc."),
    (502, "EasyIO"),
    (562, "Crestron Electronics, Inc."),
    (662, "Sontay Limited"),
    (755, "Optergy Pty"),
    (876, "Project Haystack Corporation"),
];

/// The registered name of a BACnet vendor identifier, where this table knows it.
pub fn vendor_name(vendor_id: u32) -> Option<&'static str> {
    let id = u16::try_from(vendor_id).ok()?;
    VENDORS
        .binary_search_by_key(&id, |&(i, _)| i)
        .ok()
        .and_then(|i| VENDORS.get(i))
        .map(|&(_, name)| name)
}

/// How many identifiers the table names.
pub fn known_vendors() -> usize {
    VENDORS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_vendors_have_their_registered_names() {
        assert_eq!(vendor_name(5), Some("Johnson Controls, Inc."));
        assert_eq!(
            vendor_name(7),
            Some("Siemens Schweiz AG (Formerly: Landis & Staefa Division Europe)")
        );
        assert_eq!(vendor_name(8), Some("Delta Controls"));
        assert_eq!(vendor_name(2), Some("The Trane Company"));
        assert_eq!(vendor_name(17), Some("Honeywell Inc."));
        assert_eq!(vendor_name(24), Some("Automated Logic Corporation"));
        assert_eq!(vendor_name(28), Some("KMC Controls, Inc."));
        assert_eq!(vendor_name(36), Some("Tridium Inc."));
        assert_eq!(vendor_name(260), Some("BACnet Stack at SourceForge"));
    }

    #[test]
    fn unknown_identifiers_have_no_name() {
        assert_eq!(vendor_name(110), None);
        assert_eq!(vendor_name(65_535), None);
        assert_eq!(vendor_name(u32::MAX), None);
    }

    #[test]
    fn the_table_is_sorted_without_duplicates_or_blanks() {
        assert!(VENDORS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(VENDORS.iter().all(|(_, n)| !n.trim().is_empty()));
        assert!(known_vendors() > 150);
    }
}
