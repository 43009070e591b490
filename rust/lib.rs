//! maskgate's masking engine: finds AWS identifiers and secrets and swaps them for stable
//! pseudonyms, and back, in whole texts, in streams and in Anthropic Messages bodies.
#![doc(html_root_url = "https://docs.rs/maskgate-core")]

mod body;
mod catalogue;
mod decoded;
mod derive;
mod engine;
mod error;
mod json;
mod known;
mod mapping;
mod pseudonym;
#[cfg(feature = "python")]
mod python;
mod scan_cache;
mod scanner;
mod sse;
mod unmask;
mod view;

pub use catalogue::{Catalogue, Edges, Entry, Validate};
pub use engine::{unmask_response, Engine, Hit, Masked, Plan};
pub use error::{Error, Result};
pub use known::{Known, Needle};
pub use mapping::Mapping;
pub use scanner::{Finding, Scanner, Source};
pub use sse::SseRewriter;
pub use unmask::{Restored, StreamUnmasker, Unmasker};
