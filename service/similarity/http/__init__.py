"""The similarity API: routes (`routes`), bodies and answers (`models`), and the lookups that
shape them (`lookups`)."""
