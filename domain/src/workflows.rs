//! Use cases that span contexts, each in one transaction: a recall marks the lot, writes its
//! trace event, flags the orders that hold it and notifies every party reached.

mod recall;

pub use recall::recall;
