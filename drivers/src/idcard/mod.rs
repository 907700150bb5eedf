//! Second-generation ID card reader over the SAM protocol (GA 467 style
//! SAM-V modules, 115200 8N1), and a simulator speaking the same bytes.

pub mod frame;
pub mod reader;
pub mod simulator;
pub mod status;
pub mod text;

pub use reader::{format_sam_id, IdCardError, SamReader};
pub use simulator::{SamSimulator, SimCard};
pub use status::SamError;
pub use text::{CardDataError, CardText};
