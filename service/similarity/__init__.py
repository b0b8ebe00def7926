"""Image similarity and product recognition: embeddings beside every stored image, kNN in SQL
(DOT_PRODUCT), product suggestions, packshot search and suspects for QA.

    embedding/    pictures to vectors: the network, framing, decoding, the projection (WCCN)
    index/        vectors in the database and in memory: storage, kNN, projection versions
    ranking/      what the neighbours say: the vote, the geometric check (SIFT + RANSAC),
                  suggestions and suspicion scores
    background/   the catch-up worker: embedding what is missing, refitting the projection,
                  rescoring; the low-priority worker process; `reembed`
    http/         the API's routes, bodies and answers
    hooks.py      similarity's listeners on the catalog's hooks
    connect.py    what similarity plugs into the rest of the service at start
    qa_priority.py  QA_PRIORITY=suspects

Nothing outside imports similarity's internals: it registers into the catalog's hooks, QA's
picker and scoring model, the jobs' report and /metrics (`connect`).
"""
