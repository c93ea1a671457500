//! Renderers shared by lint and verify. Only this module (and the progress printer) writes to the terminal.
pub mod verify;
