"""Browser end-to-end test of the integration (scripts/e2e); the browser side is Node."""
