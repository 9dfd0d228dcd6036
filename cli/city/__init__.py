"""`asset-registry city …`, `departments …` and `districts …`: the city the registry describes."""
