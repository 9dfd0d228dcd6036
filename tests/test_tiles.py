from __future__ import annotations

import mapbox_vector_tile
import pytest
from flask.testing import FlaskClient

from tests.auth_fixtures import LoginHelper
from tests.sql import query
from tests.tiles import tile_of


@pytest.fixture(scope="module")
def a_parcel(sample_database_url: str) -> dict[str, object]:
    (row,) = query(
        sample_database_url,
        "SELECT parcel_id, status, ST_X(c) AS lon, ST_Y(c) AS lat FROM ("
        " SELECT parcel_id, status, ST_PointOnSurface(geom) AS c FROM parcels"
        " WHERE geom IS NOT NULL ORDER BY parcel_id LIMIT 1) AS p",
    )
    return dict(row._mapping)


def test_a_tile_holds_the_parcels_under_it_with_their_public_attributes(
    sample_client: FlaskClient, a_parcel: dict[str, object]
) -> None:
    x, y = tile_of(float(a_parcel["lon"]), float(a_parcel["lat"]), 15)  # type: ignore[arg-type]
    response = sample_client.get(f"/tiles/parcels/15/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    layer = mapbox_vector_tile.decode(response.data)["parcels"]
    features = {f["properties"]["parcel_id"]: f for f in layer["features"]}
    found = features[str(a_parcel["parcel_id"])]
    assert found["properties"]["status"] == a_parcel["status"]
    assert set(found["properties"]) == {"parcel_id", "address", "department", "use", "status"}
    assert found["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_an_unchanged_tile_is_revalidated_with_304(
    sample_client: FlaskClient, a_parcel: dict[str, object]
) -> None:
    x, y = tile_of(float(a_parcel["lon"]), float(a_parcel["lat"]), 14)  # type: ignore[arg-type]
    first = sample_client.get(f"/tiles/parcels/14/{x}/{y}.mvt")
    again = sample_client.get(
        f"/tiles/parcels/14/{x}/{y}.mvt", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]


def test_a_public_tile_carries_the_security_headers_and_may_be_kept_by_a_shared_cache(
    sample_client: FlaskClient, a_parcel: dict[str, object]
) -> None:
    """Public tiles are answered before Flask (PublicTileMiddleware), so they missed the
    headers every Flask answer gets (issue 15, item 6)."""
    x, y = tile_of(float(a_parcel["lon"]), float(a_parcel["lat"]), 15)  # type: ignore[arg-type]
    for response in (
        sample_client.get(f"/tiles/parcels/15/{x}/{y}.mvt"),
        sample_client.get("/tiles/parcels/25/0/0.mvt"),  # the 404 of an impossible address
    ):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "default-src 'none'" in headers["Content-Security-Policy"]
    cache = sample_client.get(f"/tiles/parcels/15/{x}/{y}.mvt").headers["Cache-Control"]
    # a proxy keeps it a minute (nginx honours s-maxage); a browser revalidates every time
    assert cache == "public, max-age=0, s-maxage=60"


def test_a_tile_far_from_the_city_is_empty(sample_client: FlaskClient) -> None:
    response = sample_client.get("/tiles/parcels/14/0/0.mvt")
    assert response.status_code == 200
    assert response.data == b""


@pytest.mark.parametrize("path", ["/tiles/parcels/3/8/0.mvt", "/tiles/parcels/25/0/0.mvt"])
def test_a_tile_address_outside_the_pyramid_is_404(sample_client: FlaskClient, path: str) -> None:
    assert sample_client.get(path).status_code == 404


def test_a_private_map_serves_tiles_to_signed_in_users_only(
    sample_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    auth: LoginHelper,
) -> None:
    from app import create_app
    from app import database

    monkeypatch.setenv("REGISTRY_PUBLIC_MAP", "false")
    app = create_app({"TESTING": True, "DATABASE_URL": sample_database_url, "SECRET_KEY": "t"})
    anonymous = app.test_client().get("/tiles/parcels/14/2800/6540.mvt")
    assert anonymous.status_code in {302, 401}
    reader = auth.signed_in_client(app, "viewer", email="tile-reader@city.example")
    tile = reader.get("/tiles/parcels/14/2800/6540.mvt")
    assert tile.status_code == 200
    # a tile only signed-in users may read is never kept by a shared cache
    assert tile.headers["Cache-Control"] == "private, no-cache"
    database.dispose(app)


def test_a_public_tile_the_database_cannot_serve_is_a_503_with_the_security_headers() -> None:
    """Answered before Flask like the tile itself (app.faults.FaultMiddleware), so it must carry
    the headers by itself too."""
    from app import create_app
    from app import database

    nowhere = "postgresql+psycopg://postgres@127.0.0.1:9/no_such_database"
    app = create_app({"TESTING": True, "DATABASE_URL": nowhere, "SECRET_KEY": "t"})
    try:
        answer = app.test_client().get("/tiles/parcels/14/2800/6540.mvt", buffered=True)
    finally:
        database.dispose(app)
    assert answer.status_code == 503
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"
