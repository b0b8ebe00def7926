"""What the neighbours say: the weighted kNN vote (`votes`), neighbourhoods and decisions
(`suggestions`), the geometric check and the re-ranking it drives (`geometry`, `rerank`),
and suspicion scores (`suspects`)."""
