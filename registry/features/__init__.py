"""Features for OGC API – Features (Parts 1–3): the published collections, CQL2 filters compiled
to parameterised SQL, the CRS offer, and the set-based reads behind `/ogc`. Free of Flask; the web
adapter is `app/blueprints/ogc/`."""
