//! Support crate for the black-box API suite (tests live in api/).
