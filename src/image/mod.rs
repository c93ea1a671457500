//! Image sources: docker-archive tarballs and OCI layouts, digests verified, merged filesystem index.
