"""Store-visit image jobs: the submit/status contract, the durable queue and its worker pool,
the safe image fetcher, and the store master they check visits against."""
