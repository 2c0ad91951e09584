//! The service requests and answers used here (ASHRAE 135 clauses 15.5, 15.7, 16.1, 16.10):
//! Who-Is, I-Am, ReadProperty and ReadPropertyMultiple, with encoders for both directions (the
//! answers' encoders serve tests and simulated peers).

use super::CodecError;
use super::apdu::BacnetError;
use super::tag::{
    ObjectId, Reader, Value, encode_closing, encode_context_object_id, encode_context_unsigned,
    encode_opening,
};
use std::fmt;

/// A property identifier (clause 21, BACnetPropertyIdentifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PropertyId(pub u32);

impl PropertyId {
    /// Application_Software_Version.
    pub const APPLICATION_SOFTWARE_VERSION: PropertyId = PropertyId(12);
    /// Description.
    pub const DESCRIPTION: PropertyId = PropertyId(28);
    /// Firmware_Revision.
    pub const FIRMWARE_REVISION: PropertyId = PropertyId(44);
    /// Location.
    pub const LOCATION: PropertyId = PropertyId(58);
    /// Model_Name.
    pub const MODEL_NAME: PropertyId = PropertyId(70);
    /// Object_Identifier.
    pub const OBJECT_IDENTIFIER: PropertyId = PropertyId(75);
    /// Object_Name.
    pub const OBJECT_NAME: PropertyId = PropertyId(77);
    /// Vendor_Identifier.
    pub const VENDOR_IDENTIFIER: PropertyId = PropertyId(120);
    /// Vendor_Name.
    pub const VENDOR_NAME: PropertyId = PropertyId(121);
    /// Protocol_Revision.
    pub const PROTOCOL_REVISION: PropertyId = PropertyId(139);

    /// The standard's name (for the properties used here; others show as a number).
    pub fn name(self) -> &'static str {
        match self.0 {
            12 => "application-software-version",
            28 => "description",
            44 => "firmware-revision",
            58 => "location",
            70 => "model-name",
            75 => "object-identifier",
            77 => "object-name",
            120 => "vendor-identifier",
            121 => "vendor-name",
            139 => "protocol-revision",
            _ => "property",
        }
    }
}

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "property" => write!(f, "property {}", self.0),
            name => f.write_str(name),
        }
    }
}

/// Segmentation a device supports (BACnetSegmentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segmentation(pub u8);

impl Segmentation {
    /// The standard's name.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "segmented-both",
            1 => "segmented-transmit",
            2 => "segmented-receive",
            3 => "no-segmentation",
            _ => "unknown",
        }
    }
}

/// Who-Is, with an optional device instance range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WhoIs {
    /// Low and high instance limits; None asks every device.
    pub limits: Option<(u32, u32)>,
}

impl WhoIs {
    /// Appends the service request.
    pub fn emit(&self, out: &mut Vec<u8>) {
        if let Some((low, high)) = self.limits {
            encode_context_unsigned(out, 0, u64::from(low));
            encode_context_unsigned(out, 1, u64::from(high));
        }
    }

    /// Parses the service request.
    pub fn parse(data: &[u8]) -> Result<WhoIs, CodecError> {
        let mut r = Reader::new(data);
        if r.is_empty() {
            return Ok(WhoIs { limits: None });
        }
        let low = r.read_context_unsigned(0, "Who-Is low limit")?;
        let high = r.read_context_unsigned(1, "Who-Is high limit")?;
        let cut = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(WhoIs {
            limits: Some((cut(low), cut(high))),
        })
    }
}

/// I-Am: a device's identifier and abilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IAm {
    /// The Device object's identifier.
    pub device: ObjectId,
    /// Largest APDU the device accepts.
    pub max_apdu: u32,
    /// Segmentation it supports.
    pub segmentation: Segmentation,
    /// Its vendor identifier.
    pub vendor_id: u32,
}

impl IAm {
    /// Parses the service request.
    pub fn parse(data: &[u8]) -> Result<IAm, CodecError> {
        let mut r = Reader::new(data);
        let device = match r.read_value("I-Am device identifier")? {
            Value::ObjectId(id) => id,
            other => {
                return Err(CodecError::Malformed {
                    what: "I-Am device identifier",
                    detail: format!("expected an object identifier, found {other:?}"),
                });
            }
        };
        let max_apdu = r.read_app_unsigned("I-Am max APDU length accepted")?;
        let segmentation = r.read_app_enumerated("I-Am segmentation supported")?;
        let vendor_id = r.read_app_unsigned("I-Am vendor ID")?;
        Ok(IAm {
            device,
            max_apdu: u32::try_from(max_apdu).unwrap_or(u32::MAX),
            segmentation: Segmentation(u8::try_from(segmentation).unwrap_or(u8::MAX)),
            vendor_id: u32::try_from(vendor_id).unwrap_or(u32::MAX),
        })
    }

    /// Appends the service request.
    pub fn emit(&self, out: &mut Vec<u8>) {
        Value::ObjectId(self.device).encode(out);
        Value::Unsigned(u64::from(self.max_apdu)).encode(out);
        Value::Enumerated(u64::from(self.segmentation.0)).encode(out);
        Value::Unsigned(u64::from(self.vendor_id)).encode(out);
    }
}

/// A property reference: property and optional array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PropertyRef {
    /// The property.
    pub property: PropertyId,
    /// An array element, or None for the whole property.
    pub array_index: Option<u32>,
}

impl From<PropertyId> for PropertyRef {
    fn from(property: PropertyId) -> PropertyRef {
        PropertyRef {
            property,
            array_index: None,
        }
    }
}

fn cut_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// ReadProperty-Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadProperty {
    /// The object.
    pub object: ObjectId,
    /// The property (whole; this crate never reads array elements).
    pub property: PropertyId,
}

impl ReadProperty {
    /// Appends the service request.
    pub fn emit(&self, out: &mut Vec<u8>) {
        encode_context_object_id(out, 0, self.object);
        encode_context_unsigned(out, 1, u64::from(self.property.0));
    }

    /// Parses the service request (an array index is refused: this crate never sends one).
    pub fn parse(data: &[u8]) -> Result<ReadProperty, CodecError> {
        let mut r = Reader::new(data);
        let object = r.read_context_object_id(0, "ReadProperty object")?;
        let property = PropertyId(cut_u32(
            r.read_context_unsigned(1, "ReadProperty property")?,
        ));
        if !r.is_empty() {
            return Err(CodecError::Malformed {
                what: "ReadProperty request",
                detail: format!("{} octets after the property", r.rest().len()),
            });
        }
        Ok(ReadProperty { object, property })
    }
}

/// ReadProperty-ACK.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPropertyAck {
    /// The object read.
    pub object: ObjectId,
    /// The property read.
    pub property: PropertyId,
    /// The array element, if one was read.
    pub array_index: Option<u32>,
    /// The value (several for a list).
    pub values: Vec<Value>,
}

impl ReadPropertyAck {
    /// Parses the service answer.
    pub fn parse(data: &[u8]) -> Result<ReadPropertyAck, CodecError> {
        let mut r = Reader::new(data);
        let object = r.read_context_object_id(0, "ReadProperty-ACK object")?;
        let property = PropertyId(cut_u32(
            r.read_context_unsigned(1, "ReadProperty-ACK property")?,
        ));
        let array_index = r
            .read_optional_context_unsigned(2, "ReadProperty-ACK array index")?
            .map(cut_u32);
        r.expect_opening(3, "ReadProperty-ACK value")?;
        let values = r.read_values_until_closing(3, "ReadProperty-ACK value")?;
        Ok(ReadPropertyAck {
            object,
            property,
            array_index,
            values,
        })
    }

    /// Appends the service answer.
    pub fn emit(&self, out: &mut Vec<u8>) {
        encode_context_object_id(out, 0, self.object);
        encode_context_unsigned(out, 1, u64::from(self.property.0));
        if let Some(i) = self.array_index {
            encode_context_unsigned(out, 2, u64::from(i));
        }
        encode_opening(out, 3);
        for v in &self.values {
            v.encode(out);
        }
        encode_closing(out, 3);
    }
}

/// ReadPropertyMultiple-Request for one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadPropertyMultiple {
    /// The object.
    pub object: ObjectId,
    /// Its properties (whole; this crate never reads array elements).
    pub properties: Vec<PropertyId>,
}

impl ReadPropertyMultiple {
    /// Appends the service request.
    pub fn emit(&self, out: &mut Vec<u8>) {
        encode_context_object_id(out, 0, self.object);
        encode_opening(out, 1);
        for p in &self.properties {
            encode_context_unsigned(out, 0, u64::from(p.0));
        }
        encode_closing(out, 1);
    }

    /// Parses a request for exactly one object without array indexes (what this crate sends).
    pub fn parse(data: &[u8]) -> Result<ReadPropertyMultiple, CodecError> {
        let mut r = Reader::new(data);
        let object = r.read_context_object_id(0, "ReadPropertyMultiple object")?;
        r.expect_opening(1, "ReadPropertyMultiple property list")?;
        let mut properties = Vec::new();
        while !r.at_closing(1) {
            let p = r.read_context_unsigned(0, "ReadPropertyMultiple property")?;
            properties.push(PropertyId(cut_u32(p)));
        }
        r.expect_closing(1, "ReadPropertyMultiple property list")?;
        if !r.is_empty() {
            return Err(CodecError::Malformed {
                what: "ReadPropertyMultiple request",
                detail: "more than one object, or octets after the list".into(),
            });
        }
        Ok(ReadPropertyMultiple { object, properties })
    }
}

/// One property's result in a ReadPropertyMultiple-ACK: its value or its error.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyResult {
    /// The property.
    pub property: PropertyId,
    /// The array element, if one was read.
    pub array_index: Option<u32>,
    /// The value, or why it could not be read.
    pub value: Result<Vec<Value>, BacnetError>,
}

/// The results for one object in a ReadPropertyMultiple-ACK.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectResults {
    /// The object.
    pub object: ObjectId,
    /// Its properties' results.
    pub results: Vec<PropertyResult>,
}

/// ReadPropertyMultiple-ACK.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPropertyMultipleAck {
    /// The results, per object.
    pub objects: Vec<ObjectResults>,
}

impl ReadPropertyMultipleAck {
    /// Parses the service answer.
    pub fn parse(data: &[u8]) -> Result<ReadPropertyMultipleAck, CodecError> {
        let mut r = Reader::new(data);
        let mut objects = Vec::new();
        while !r.is_empty() {
            let object = r.read_context_object_id(0, "ReadPropertyMultiple-ACK object")?;
            r.expect_opening(1, "ReadPropertyMultiple-ACK results")?;
            let mut results = Vec::new();
            while !r.at_closing(1) {
                results.push(parse_property_result(&mut r)?);
            }
            r.expect_closing(1, "ReadPropertyMultiple-ACK results")?;
            objects.push(ObjectResults { object, results });
        }
        Ok(ReadPropertyMultipleAck { objects })
    }

    /// Appends the service answer.
    pub fn emit(&self, out: &mut Vec<u8>) {
        for o in &self.objects {
            encode_context_object_id(out, 0, o.object);
            encode_opening(out, 1);
            for p in &o.results {
                encode_context_unsigned(out, 2, u64::from(p.property.0));
                if let Some(i) = p.array_index {
                    encode_context_unsigned(out, 3, u64::from(i));
                }
                match &p.value {
                    Ok(values) => {
                        encode_opening(out, 4);
                        for v in values {
                            v.encode(out);
                        }
                        encode_closing(out, 4);
                    }
                    Err(e) => {
                        encode_opening(out, 5);
                        e.emit(out);
                        encode_closing(out, 5);
                    }
                }
            }
            encode_closing(out, 1);
        }
    }
}

fn parse_property_result(r: &mut Reader<'_>) -> Result<PropertyResult, CodecError> {
    let property = PropertyId(cut_u32(
        r.read_context_unsigned(2, "ReadPropertyMultiple-ACK property")?,
    ));
    let array_index = r
        .read_optional_context_unsigned(3, "ReadPropertyMultiple-ACK array index")?
        .map(cut_u32);
    let value = if r.at_opening(4) {
        r.expect_opening(4, "ReadPropertyMultiple-ACK value")?;
        Ok(r.read_values_until_closing(4, "ReadPropertyMultiple-ACK value")?)
    } else {
        r.expect_opening(5, "ReadPropertyMultiple-ACK value or error")?;
        let class = r.read_app_enumerated("ReadPropertyMultiple-ACK error class")?;
        let code = r.read_app_enumerated("ReadPropertyMultiple-ACK error code")?;
        r.expect_closing(5, "ReadPropertyMultiple-ACK error")?;
        Err(BacnetError {
            class: cut_u32(class),
            code: cut_u32(code),
        })
    };
    Ok(PropertyResult {
        property,
        array_index,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_testbed_i_am_decodes() {
        // bacpypes3's answer to Who-Is from the router peer: device,2000, 1024, segmented-both, vendor 8
        let i_am = IAm::parse(&[
            0xC4, 0x02, 0x00, 0x07, 0xD0, 0x22, 0x04, 0x00, 0x91, 0x00, 0x21, 0x08,
        ])
        .unwrap();
        assert_eq!(i_am.device, ObjectId::device(2000));
        assert_eq!(i_am.max_apdu, 1024);
        assert_eq!(i_am.segmentation.name(), "segmented-both");
        assert_eq!(i_am.vendor_id, 8);
    }

    #[test]
    fn a_read_property_ack_decodes() {
        // model-name "PXC" of device,20005, as the router peer returns it for 2:05
        let data = [
            0x0C, 0x02, 0x00, 0x4E, 0x25, 0x19, 0x46, 0x3E, 0x74, 0x00, b'P', b'X', b'C', 0x3F,
        ];
        let ack = ReadPropertyAck::parse(&data).unwrap();
        assert_eq!(ack.object, ObjectId::device(20005));
        assert_eq!(ack.property, PropertyId::MODEL_NAME);
        assert_eq!(ack.values, vec![Value::CharacterString("PXC".into())]);
    }

    #[test]
    fn requests_encode_as_the_standard_shows() {
        let mut out = Vec::new();
        ReadProperty {
            object: ObjectId::device(1001),
            property: PropertyId::OBJECT_NAME,
        }
        .emit(&mut out);
        assert_eq!(out, [0x0C, 0x02, 0x00, 0x03, 0xE9, 0x19, 0x4D]);
        let mut out = Vec::new();
        ReadPropertyMultiple {
            object: ObjectId::device(1001),
            properties: vec![PropertyId::OBJECT_NAME, PropertyId::PROTOCOL_REVISION],
        }
        .emit(&mut out);
        assert_eq!(
            out,
            [
                0x0C, 0x02, 0x00, 0x03, 0xE9, 0x1E, 0x09, 0x4D, 0x09, 0x8B, 0x1F
            ]
        );
        let mut out = Vec::new();
        WhoIs::default().emit(&mut out);
        assert!(out.is_empty());
    }

    fn any_object() -> impl Strategy<Value = ObjectId> {
        (0u16..1024, 0u32..=ObjectId::MAX_INSTANCE).prop_map(|(object_type, instance)| ObjectId {
            object_type,
            instance,
        })
    }

    fn any_values() -> impl Strategy<Value = Vec<Value>> {
        proptest::collection::vec(
            prop_oneof![
                "[ -~]{0,30}".prop_map(Value::CharacterString),
                any::<u64>().prop_map(Value::Unsigned),
                any::<u64>().prop_map(Value::Enumerated),
                any::<bool>().prop_map(Value::Boolean),
            ],
            0..3,
        )
    }

    fn any_result() -> impl Strategy<Value = PropertyResult> {
        (
            any::<u32>(),
            proptest::option::of(any::<u32>()),
            prop_oneof![
                any_values().prop_map(Ok),
                (any::<u32>(), any::<u32>())
                    .prop_map(|(class, code)| Err(BacnetError { class, code })),
            ],
        )
            .prop_map(|(p, array_index, value)| PropertyResult {
                property: PropertyId(p),
                array_index,
                value,
            })
    }

    proptest! {
        #[test]
        fn answers_survive_encoding(
            object in any_object(),
            property in any::<u32>(),
            array_index in proptest::option::of(any::<u32>()),
            values in any_values(),
            objects in proptest::collection::vec((any_object(), proptest::collection::vec(any_result(), 0..5)), 0..3),
            i_am in (any_object(), any::<u32>(), 0u8..4, any::<u32>()),
        ) {
            let ack = ReadPropertyAck { object, property: PropertyId(property), array_index, values };
            let mut out = Vec::new();
            ack.emit(&mut out);
            prop_assert_eq!(ReadPropertyAck::parse(&out).unwrap(), ack);

            let rpm = ReadPropertyMultipleAck {
                objects: objects.into_iter().map(|(object, results)| ObjectResults { object, results }).collect(),
            };
            let mut out = Vec::new();
            rpm.emit(&mut out);
            prop_assert_eq!(ReadPropertyMultipleAck::parse(&out).unwrap(), rpm);

            let i_am = IAm { device: i_am.0, max_apdu: i_am.1, segmentation: Segmentation(i_am.2), vendor_id: i_am.3 };
            let mut out = Vec::new();
            i_am.emit(&mut out);
            prop_assert_eq!(IAm::parse(&out).unwrap(), i_am);
        }

        #[test]
        fn requests_survive_encoding(object in any_object(), props in proptest::collection::vec(any::<u32>(), 0..12), limits in proptest::option::of((any::<u32>(), any::<u32>()))) {
            let rp = ReadProperty { object, property: PropertyId(props.first().copied().unwrap_or(77)) };
            let mut out = Vec::new();
            rp.emit(&mut out);
            prop_assert_eq!(ReadProperty::parse(&out).unwrap(), rp);
            let rpm = ReadPropertyMultiple { object, properties: props.into_iter().map(PropertyId).collect() };
            let mut out = Vec::new();
            rpm.emit(&mut out);
            prop_assert_eq!(ReadPropertyMultiple::parse(&out).unwrap(), rpm);
            let who = WhoIs { limits };
            let mut out = Vec::new();
            who.emit(&mut out);
            prop_assert_eq!(WhoIs::parse(&out).unwrap(), who);
        }

        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = IAm::parse(&bytes);
            let _ = ReadPropertyAck::parse(&bytes);
            let _ = ReadPropertyMultipleAck::parse(&bytes);
            let _ = ReadProperty::parse(&bytes);
            let _ = ReadPropertyMultiple::parse(&bytes);
            let _ = WhoIs::parse(&bytes);
        }
    }
}
