//! Second-generation ID card reader over the SAM protocol (GA 467 style
//! SAM-V modules, 115200 8N1), and a simulator speaking the same bytes.

pub mod card;
pub mod foreign;
pub mod frame;
pub mod photo;
pub mod reader;
pub mod simulator;
pub mod status;
pub mod supervisor;
pub mod text;

pub use card::{Card, CardBlock, ResidencePermit};
pub use foreign::{ForeignCardText, ForeignNumber, ForeignResident};
pub use photo::{PhotoDecoder, PhotoError, VendorWltDecoder};
pub use supervisor::{ReaderEvent, ReaderSupervisor};
pub use reader::{format_sam_id, IdCardError, SamReader};
pub use simulator::{SamSimulator, SimCard};
pub use status::SamError;
pub use text::{CardDataError, CardText};
