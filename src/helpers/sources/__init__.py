"""Where datasets come from: synthetic England, published NHS files, the real-structure build, record-level extracts and downloads."""
