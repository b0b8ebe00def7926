"""Image similarity: embeddings beside every stored image, kNN in SQL (DOT_PRODUCT), product
suggestions, and suspects for QA. Other features call `service.similarity.hooks`."""
