"""The city's open data: what it publishes about the parcels it owns, to anybody.

One definition of "public" serves every way out (the `/open` page and its table, its map tiles,
its downloads and the `data.json` catalog): live parcels only (never a retired one), and only
the fields the city publishes (`fields.PUBLIC_FIELDS`: id, address, department, use, status and
the shape). Lease financials and every other attribute stay inside.
"""
