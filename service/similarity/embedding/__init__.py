"""Pictures to vectors: the network (`backbone`, built by `make model`), the views it is
shown (`framing`), decoding at working size (`decode`), the embedders `EMBEDDER` names
(`embedders`, `pack_features`) and the catalog's projection (`projection`, WCCN)."""
