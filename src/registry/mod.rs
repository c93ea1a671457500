//! The OCI distribution client: the only code that speaks HTTP to registries.
//!
//! It owns what the Docker Engine cannot do for us without pulling or pushing whole images:
//! reading a manifest (HEAD and GET, with the Accept set for Docker v2 and OCI manifests and
//! indexes), pointing another tag at a manifest the registry already has (PUT, no layer
//! moves), asking whether a blob is there and reading small blobs (an image config). It
//! finds credentials exactly as the docker CLI and `push` do ([`credentials`]: the docker
//! config's `credHelpers` such as ECR's `ecr-login`, `auths`, `credsStore`) and answers the
//! registry's `WWW-Authenticate` challenge with them ([`auth`]: Basic, or a Bearer token
//! fetched from the challenge's realm). HTTPS always (rustls, the system's root
//! certificates), plain HTTP only for loopback registries (`127.0.0.0/8`, `::1`,
//! `localhost`) and hosts given with `--insecure-registry`. Every request has a timeout;
//! connection failures, 5xx and 429 are retried a bounded number of times with exponential
//! backoff, 4xx never (but one re-authentication on 401). Every failure is one line naming
//! the registry and what was being done ([`Error`]). [`manifest`] holds the media types and
//! the read-back checks `push` runs on what the registry stored, as data.
//!
//! The API is synchronous, like its callers: each [`Client`] owns a small current-thread
//! tokio runtime that drives its requests (so it must not be called from async code).

pub mod auth;
pub mod client;
pub mod credentials;
pub mod manifest;

pub use client::{is_loopback, BlobSent, Client, Error, ErrorKind, Options, PushedBlob};
pub use manifest::{Head, Manifest};
