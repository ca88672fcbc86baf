"""The GitHub Action's engine: runs the user's system over a testset and reports (in progress)."""
