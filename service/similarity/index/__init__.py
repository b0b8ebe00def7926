"""Vectors in the database and in memory: rows per model (`store`, `vectors`), SingleStore's
VECTOR sizes (`dimensions`), nearest neighbours in SQL or in an in-process matrix (`knn`,
`matrix`), projection versions (`projections`) and what a process holds per database
(`state`: the embedder, the active projection, the matrices)."""
