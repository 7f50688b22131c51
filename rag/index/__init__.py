"""Index: embedders, the FAISS, BM25 and Milvus stores behind their contracts, the backends
registry, the build (only what changed) and the opening of a build."""
