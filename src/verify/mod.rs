//! Verify manifests (lambda-image/v1, container-structure-test 2.0.0) and the Lambda checks.
