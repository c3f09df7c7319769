//! The production server's process model, gunicorn's: a master (`master`) that binds the
//! listening sockets (`listener`), starts and watches worker processes (`worker`) through their
//! heartbeats (`heartbeat`), and stops them gracefully without dropping a queued connection
//! (`drain`); its command line (`cli`) and error log (`error_log`).

pub mod cli;
pub mod drain;
pub mod error_log;
pub mod heartbeat;
pub mod listener;
pub mod master;
pub mod worker;
