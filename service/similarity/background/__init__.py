"""Work done off the request path: the catch-up (`catchup`: embed what is missing, project
what the active version has not seen), refitting the projection (`refit`), the worker loop
(`worker`), the low-priority process that embeds and matches (`offload`) and `reembed`."""
