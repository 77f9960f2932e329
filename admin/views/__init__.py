"""One module per page or capability."""
