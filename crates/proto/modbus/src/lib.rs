//! Modbus (being written).
