//! Image specs: `images/<name>/image.yaml` types and validation.
