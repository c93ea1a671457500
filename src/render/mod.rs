//! Renders an image spec into a Dockerfile with minijinja templates.
