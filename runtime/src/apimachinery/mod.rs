//! Kubernetes apimachinery for kapi: well-known wire types (ObjectMeta, Status, Time, Quantity, ...),
//! the `Resource` trait, the static schema tree with its walkers, field errors and JSONPath.

pub mod apply;
pub mod conversion;
pub mod field;
pub mod go;
pub mod heavy;
pub mod intstr;
pub mod json;
pub mod jsonpath;
pub mod meta;
pub mod patch;
pub mod proto;
pub mod quantity;
pub mod raw;
pub mod resource;
pub mod schema;
pub mod selector;
pub mod serde_util;
pub mod status;
pub mod table;
pub mod time;
pub mod validation;
pub mod yaml;

pub use field::{ErrorType, FieldError, Path};
pub use intstr::IntOrString;
pub use meta::{
    Condition, FieldSelectorRequirement, LabelSelector, LabelSelectorRequirement, ListMeta,
    ManagedFieldsEntry, ObjectMeta, OwnerReference, ShardInfo, TypeMeta,
};
pub use quantity::{Quantity, QuantityError, QuantityFormat, QuantityValue};
pub use raw::{FieldsV1, RawExtension};
pub use resource::{Hooks, KindInfo, PrinterColumn, Resource, ScaleInfo, Scope};
pub use status::{DeleteOptions, Preconditions, Status, StatusCause, StatusDetails, WatchEvent};
pub use time::{Duration, MicroTime, Time};
