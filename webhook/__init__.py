"""The GitHub webhook service: dispatches workflows and posts results back (in progress)."""
