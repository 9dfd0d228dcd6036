"""Los Angeles geography used by the generator: where the city is, its council districts,
neighbourhood names and real arterial streets with LA-style house numbering.

Coordinates are approximate (a few hundred metres); the point is that a parcel in Van
Nuys gets a Van Nuys street, a Valley council district and a Valley-style address.
"""

from __future__ import annotations

import numpy as np

# (lon_min, lat_min, lon_max, lat_max) of the three parts of the city.
REGIONS: tuple[tuple[float, float, float, float], ...] = (
    (-118.67, 34.15, -118.35, 34.33),  # San Fernando Valley
    (-118.50, 33.93, -118.16, 34.12),  # central, west and south LA
    (-118.32, 33.70, -118.24, 33.93),  # the harbor strip
)

# Other cities and unincorporated areas inside those boxes (rough rectangles).
EXCLUSIONS: tuple[tuple[float, float, float, float], ...] = (
    (-118.427, 34.055, -118.385, 34.100),  # Beverly Hills
    (-118.395, 34.075, -118.345, 34.100),  # West Hollywood
    (-118.420, 33.985, -118.375, 34.025),  # Culver City
    (-118.365, 33.935, -118.320, 33.975),  # Inglewood
    (-118.240, 33.970, -118.195, 34.005),  # Vernon / Huntington Park
    (-118.500, 34.005, -118.455, 34.050),  # Santa Monica
    (-118.185, 33.990, -118.160, 34.060),  # East Los Angeles
    (-118.460, 34.270, -118.415, 34.300),  # City of San Fernando
    (-118.370, 34.170, -118.350, 34.220),  # Burbank
    (-118.280, 33.800, -118.240, 33.930),  # Carson
    (-118.320, 33.800, -118.300, 33.930),  # Gardena / Torrance
    (-118.235, 33.930, -118.160, 34.000),  # South Gate, Lynwood, Bell, Huntington Park
    (-118.385, 33.980, -118.335, 34.005),  # Ladera Heights / View Park
    (-118.430, 33.930, -118.380, 33.955),  # LAX
    (-118.465, 33.970, -118.430, 33.990),  # Marina del Rey
    (-118.500, 33.930, -118.445, 33.960),  # Santa Monica Bay
    (-118.500, 33.960, -118.465, 33.980),
    (-118.500, 33.980, -118.480, 34.005),
    (-118.275, 33.700, -118.240, 33.770),  # Port of Los Angeles
    (-118.320, 33.700, -118.275, 33.710),  # the Pacific off San Pedro
    (-118.320, 33.700, -118.309, 33.775),  # Rancho Palos Verdes
    (-118.320, 33.775, -118.300, 33.800),  # Lomita
)

# Council district seed points (lon, lat, district): a parcel belongs to the nearest seed.
_CD_SEEDS: tuple[tuple[float, float, int], ...] = (
    (-118.225, 34.095, 1),
    (-118.272, 34.060, 1),
    (-118.385, 34.180, 2),
    (-118.395, 34.152, 2),
    (-118.605, 34.180, 3),
    (-118.550, 34.190, 3),
    (-118.475, 34.160, 4),
    (-118.290, 34.108, 4),
    (-118.420, 34.065, 5),
    (-118.370, 34.072, 5),
    (-118.410, 34.030, 5),
    (-118.465, 34.200, 6),
    (-118.425, 34.232, 6),
    (-118.445, 34.300, 7),
    (-118.400, 34.268, 7),
    (-118.322, 33.965, 8),
    (-118.312, 33.995, 8),
    (-118.272, 33.985, 9),
    (-118.265, 34.020, 9),
    (-118.330, 34.050, 10),
    (-118.357, 34.030, 10),
    (-118.460, 33.990, 11),
    (-118.410, 33.955, 11),
    (-118.480, 34.062, 11),
    (-118.585, 34.262, 12),
    (-118.520, 34.245, 12),
    (-118.325, 34.095, 13),
    (-118.262, 34.080, 13),
    (-118.245, 34.045, 14),
    (-118.205, 34.045, 14),
    (-118.185, 34.085, 14),
    (-118.245, 33.945, 15),
    (-118.290, 33.860, 15),
    (-118.285, 33.760, 15),
)

_NEIGHBOURHOODS: tuple[tuple[str, float, float], ...] = (
    ("Canoga Park", -118.598, 34.201),
    ("Woodland Hills", -118.606, 34.168),
    ("Chatsworth", -118.601, 34.257),
    ("Northridge", -118.536, 34.228),
    ("Reseda", -118.536, 34.201),
    ("Tarzana", -118.553, 34.173),
    ("Encino", -118.501, 34.159),
    ("Van Nuys", -118.449, 34.186),
    ("Sherman Oaks", -118.449, 34.151),
    ("Studio City", -118.396, 34.149),
    ("North Hollywood", -118.378, 34.172),
    ("Valley Village", -118.396, 34.165),
    ("Sun Valley", -118.370, 34.217),
    ("Panorama City", -118.449, 34.225),
    ("Arleta", -118.430, 34.241),
    ("Pacoima", -118.411, 34.262),
    ("Sylmar", -118.449, 34.307),
    ("Mission Hills", -118.467, 34.257),
    ("Granada Hills", -118.502, 34.265),
    ("Porter Ranch", -118.549, 34.282),
    ("North Hills", -118.484, 34.236),
    ("Lake Balboa", -118.495, 34.195),
    ("Winnetka", -118.571, 34.213),
    ("West Hills", -118.644, 34.197),
    ("Valley Glen", -118.420, 34.190),
    ("Downtown", -118.247, 34.045),
    ("Boyle Heights", -118.205, 34.034),
    ("Hollywood", -118.329, 34.098),
    ("Koreatown", -118.300, 34.058),
    ("Echo Park", -118.260, 34.078),
    ("Silver Lake", -118.270, 34.087),
    ("Los Feliz", -118.293, 34.107),
    ("Westlake", -118.277, 34.057),
    ("Mid-City", -118.353, 34.040),
    ("West Adams", -118.334, 34.032),
    ("Leimert Park", -118.332, 34.005),
    ("Hyde Park", -118.330, 33.987),
    ("Exposition Park", -118.287, 34.015),
    ("Vermont Square", -118.291, 33.997),
    ("Watts", -118.243, 33.940),
    ("Westchester", -118.400, 33.960),
    ("Playa del Rey", -118.440, 33.955),
    ("Venice", -118.470, 33.990),
    ("Mar Vista", -118.435, 34.002),
    ("Palms", -118.405, 34.020),
    ("West Los Angeles", -118.445, 34.040),
    ("Westwood", -118.441, 34.060),
    ("Brentwood", -118.476, 34.060),
    ("Fairfax", -118.361, 34.078),
    ("Hancock Park", -118.332, 34.070),
    ("Pico-Union", -118.285, 34.045),
    ("Lincoln Heights", -118.210, 34.070),
    ("El Sereno", -118.178, 34.082),
    ("Highland Park", -118.193, 34.111),
    ("Cypress Park", -118.225, 34.090),
    ("Chinatown", -118.238, 34.063),
    ("Baldwin Hills", -118.358, 34.010),
    ("Harvard Park", -118.305, 33.980),
    ("Vermont Vista", -118.290, 33.935),
    ("Green Meadows", -118.276, 33.950),
    ("Central-Alameda", -118.249, 33.985),
    ("Historic South-Central", -118.265, 34.018),
    ("Jefferson Park", -118.318, 34.028),
    ("Sawtelle", -118.448, 34.031),
    ("Del Rey", -118.418, 33.989),
    ("Cheviot Hills", -118.405, 34.035),
    ("San Pedro", -118.292, 33.736),
    ("Wilmington", -118.262, 33.780),
    ("Harbor City", -118.302, 33.790),
    ("Harbor Gateway", -118.293, 33.855),
)

# (name, axis, position, from, to): "ns" streets sit at a longitude and run between two
# latitudes; "ew" streets sit at a latitude and run between two longitudes.
_V_LAT, _V_LON = (34.14, 34.33), (-118.68, -118.34)
_STREETS: tuple[tuple[str, str, float, float, float], ...] = (
    # San Fernando Valley, north-south
    ("Topanga Canyon Blvd", "ns", -118.6060, *_V_LAT),
    ("Fallbrook Ave", "ns", -118.6240, *_V_LAT),
    ("Owensmouth Ave", "ns", -118.6024, 34.17, 34.27),
    ("Canoga Ave", "ns", -118.5975, *_V_LAT),
    ("De Soto Ave", "ns", -118.5884, *_V_LAT),
    ("Mason Ave", "ns", -118.5795, *_V_LAT),
    ("Winnetka Ave", "ns", -118.5710, *_V_LAT),
    ("Corbin Ave", "ns", -118.5620, *_V_LAT),
    ("Tampa Ave", "ns", -118.5535, *_V_LAT),
    ("Wilbur Ave", "ns", -118.5446, *_V_LAT),
    ("Reseda Blvd", "ns", -118.5360, *_V_LAT),
    ("Lindley Ave", "ns", -118.5270, *_V_LAT),
    ("White Oak Ave", "ns", -118.5180, *_V_LAT),
    ("Balboa Blvd", "ns", -118.5010, *_V_LAT),
    ("Hayvenhurst Ave", "ns", -118.4925, *_V_LAT),
    ("Woodley Ave", "ns", -118.4835, *_V_LAT),
    ("Haskell Ave", "ns", -118.4745, *_V_LAT),
    ("Sepulveda Blvd", "ns", -118.4662, *_V_LAT),
    ("Van Nuys Blvd", "ns", -118.4487, *_V_LAT),
    ("Hazeltine Ave", "ns", -118.4400, *_V_LAT),
    ("Woodman Ave", "ns", -118.4311, *_V_LAT),
    ("Fulton Ave", "ns", -118.4225, 34.14, 34.20),
    ("Coldwater Canyon Ave", "ns", -118.4133, *_V_LAT),
    ("Whitsett Ave", "ns", -118.4048, *_V_LAT),
    ("Laurel Canyon Blvd", "ns", -118.3964, *_V_LAT),
    ("Colfax Ave", "ns", -118.3876, *_V_LAT),
    ("Lankershim Blvd", "ns", -118.3764, *_V_LAT),
    ("Vineland Ave", "ns", -118.3702, *_V_LAT),
    ("Valley Circle Blvd", "ns", -118.6530, 34.15, 34.30),
    ("Shoup Ave", "ns", -118.6150, *_V_LAT),
    # the Santa Monica Mountains between the Valley and the basin
    ("Mulholland Dr", "ew", 34.1290, -118.60, -118.34),
    ("Sepulveda Blvd", "ns", -118.4750, 34.07, 34.15),
    ("Beverly Glen Blvd", "ns", -118.4440, 34.07, 34.14),
    ("Coldwater Canyon Ave", "ns", -118.4040, 34.10, 34.14),
    ("Laurel Canyon Blvd", "ns", -118.3790, 34.10, 34.14),
    # San Fernando Valley, east-west
    ("Ventura Blvd", "ew", 34.1560, *_V_LON),
    ("Magnolia Blvd", "ew", 34.1650, *_V_LON),
    ("Burbank Blvd", "ew", 34.1720, *_V_LON),
    ("Oxnard St", "ew", 34.1795, *_V_LON),
    ("Victory Blvd", "ew", 34.1866, *_V_LON),
    ("Vanowen St", "ew", 34.1940, *_V_LON),
    ("Sherman Way", "ew", 34.2010, *_V_LON),
    ("Saticoy St", "ew", 34.2085, *_V_LON),
    ("Roscoe Blvd", "ew", 34.2215, *_V_LON),
    ("Parthenia St", "ew", 34.2285, *_V_LON),
    ("Nordhoff St", "ew", 34.2355, *_V_LON),
    ("Plummer St", "ew", 34.2430, *_V_LON),
    ("Lassen St", "ew", 34.2500, *_V_LON),
    ("Devonshire St", "ew", 34.2575, *_V_LON),
    ("Chatsworth St", "ew", 34.2650, *_V_LON),
    ("San Fernando Mission Blvd", "ew", 34.2720, *_V_LON),
    ("Rinaldi St", "ew", 34.2790, *_V_LON),
    ("Hubbard St", "ew", 34.2990, -118.48, -118.38),
    ("Roxford St", "ew", 34.3130, -118.48, -118.40),
    ("Sesnon Blvd", "ew", 34.2880, -118.58, -118.48),
    # central, west and south LA, north-south
    ("Alameda St", "ns", -118.2385, 33.93, 34.07),
    ("Compton Ave", "ns", -118.2475, 33.93, 34.01),
    ("Central Ave", "ns", -118.2565, 33.93, 34.04),
    ("Avalon Blvd", "ns", -118.2652, 33.93, 34.01),
    ("San Pedro St", "ns", -118.2695, 33.96, 34.04),
    ("Main St", "ns", -118.2741, 33.93, 34.03),
    ("Broadway", "ns", -118.2782, 33.93, 34.03),
    ("Figueroa St", "ns", -118.2828, 33.93, 34.06),
    ("Hoover St", "ns", -118.2866, 33.96, 34.10),
    ("Vermont Ave", "ns", -118.2915, 33.93, 34.12),
    ("Normandie Ave", "ns", -118.3003, 33.93, 34.10),
    ("Western Ave", "ns", -118.3090, 33.93, 34.12),
    ("Arlington Ave", "ns", -118.3177, 33.98, 34.06),
    ("Crenshaw Blvd", "ns", -118.3263, 33.93, 34.07),
    ("Vine St", "ns", -118.3267, 34.07, 34.12),
    ("Highland Ave", "ns", -118.3385, 34.06, 34.12),
    ("La Brea Ave", "ns", -118.3441, 33.96, 34.12),
    ("Fairfax Ave", "ns", -118.3614, 34.00, 34.10),
    ("La Cienega Blvd", "ns", -118.3760, 34.03, 34.09),
    ("Robertson Blvd", "ns", -118.3846, 34.03, 34.06),
    ("Overland Ave", "ns", -118.4131, 34.00, 34.06),
    ("Westwood Blvd", "ns", -118.4302, 34.03, 34.07),
    ("Sepulveda Blvd", "ns", -118.4432, 33.99, 34.07),
    ("Sepulveda Blvd", "ns", -118.3960, 33.93, 33.99),
    ("Bundy Dr", "ns", -118.4630, 34.01, 34.07),
    ("Lincoln Blvd", "ns", -118.4450, 33.93, 34.00),
    ("Soto St", "ns", -118.2070, 34.00, 34.09),
    ("Lorena St", "ns", -118.1940, 34.01, 34.06),
    ("Eastern Ave", "ns", -118.1750, 34.05, 34.10),
    ("Figueroa St", "ns", -118.1960, 34.09, 34.12),
    ("Eagle Rock Blvd", "ns", -118.2150, 34.09, 34.12),
    # central, west and south LA, east-west
    ("Franklin Ave", "ew", 34.1050, -118.36, -118.28),
    ("Hollywood Blvd", "ew", 34.1016, -118.37, -118.28),
    ("Sunset Blvd", "ew", 34.0979, -118.37, -118.24),
    ("Sunset Blvd", "ew", 34.0700, -118.50, -118.43),
    ("Santa Monica Blvd", "ew", 34.0906, -118.36, -118.28),
    ("Santa Monica Blvd", "ew", 34.0490, -118.46, -118.42),
    ("Melrose Ave", "ew", 34.0837, -118.37, -118.29),
    ("Beverly Blvd", "ew", 34.0762, -118.38, -118.26),
    ("3rd St", "ew", 34.0690, -118.38, -118.28),
    ("Wilshire Blvd", "ew", 34.0617, -118.38, -118.26),
    ("Wilshire Blvd", "ew", 34.0570, -118.48, -118.42),
    ("Olympic Blvd", "ew", 34.0527, -118.39, -118.25),
    ("Olympic Blvd", "ew", 34.0400, -118.47, -118.39),
    ("Olympic Blvd", "ew", 34.0200, -118.22, -118.16),
    ("Pico Blvd", "ew", 34.0477, -118.39, -118.26),
    ("Pico Blvd", "ew", 34.0330, -118.47, -118.39),
    ("Venice Blvd", "ew", 34.0426, -118.37, -118.26),
    ("Venice Blvd", "ew", 34.0050, -118.47, -118.39),
    ("Washington Blvd", "ew", 34.0397, -118.37, -118.22),
    ("Adams Blvd", "ew", 34.0325, -118.37, -118.24),
    ("Jefferson Blvd", "ew", 34.0254, -118.37, -118.26),
    ("Exposition Blvd", "ew", 34.0183, -118.37, -118.28),
    ("Martin Luther King Jr Blvd", "ew", 34.0108, -118.36, -118.24),
    ("Vernon Ave", "ew", 34.0036, -118.34, -118.24),
    ("Slauson Ave", "ew", 33.9890, -118.36, -118.24),
    ("Gage Ave", "ew", 33.9820, -118.32, -118.24),
    ("Florence Ave", "ew", 33.9745, -118.32, -118.24),
    ("Manchester Ave", "ew", 33.9600, -118.45, -118.24),
    ("Century Blvd", "ew", 33.9455, -118.42, -118.24),
    ("Imperial Hwy", "ew", 33.9310, -118.42, -118.24),
    ("Cesar E Chavez Ave", "ew", 34.0480, -118.23, -118.16),
    ("1st St", "ew", 34.0440, -118.23, -118.16),
    ("Whittier Blvd", "ew", 34.0237, -118.22, -118.16),
    ("Valley Blvd", "ew", 34.0700, -118.21, -118.16),
    ("Huntington Dr", "ew", 34.0850, -118.20, -118.16),
    ("York Blvd", "ew", 34.1200, -118.22, -118.18),
    ("National Blvd", "ew", 34.0290, -118.43, -118.39),
    ("Westchester Pkwy", "ew", 33.9515, -118.43, -118.38),
    ("Washington Blvd", "ew", 33.9850, -118.47, -118.43),
    # the harbor strip
    ("Western Ave", "ns", -118.3090, 33.72, 33.93),
    ("Normandie Ave", "ns", -118.3003, 33.79, 33.93),
    ("Vermont Ave", "ns", -118.2915, 33.80, 33.93),
    ("Figueroa St", "ns", -118.2828, 33.78, 33.93),
    ("Gaffey St", "ns", -118.2930, 33.70, 33.80),
    ("Pacific Ave", "ns", -118.2870, 33.70, 33.76),
    ("Harbor Blvd", "ns", -118.2795, 33.72, 33.76),
    ("Avalon Blvd", "ns", -118.2625, 33.76, 33.80),
    ("El Segundo Blvd", "ew", 33.9165, -118.32, -118.24),
    ("Rosecrans Ave", "ew", 33.9020, -118.32, -118.24),
    ("Redondo Beach Blvd", "ew", 33.8885, -118.32, -118.24),
    ("Artesia Blvd", "ew", 33.8730, -118.32, -118.24),
    ("190th St", "ew", 33.8585, -118.32, -118.24),
    ("Torrance Blvd", "ew", 33.8350, -118.32, -118.24),
    ("Sepulveda Blvd", "ew", 33.8100, -118.32, -118.24),
    ("Lomita Blvd", "ew", 33.8020, -118.32, -118.24),
    ("Pacific Coast Hwy", "ew", 33.7905, -118.32, -118.24),
    ("Anaheim St", "ew", 33.7795, -118.32, -118.24),
    ("Westmont Dr", "ew", 33.7560, -118.32, -118.29),
    ("1st St", "ew", 33.7425, -118.32, -118.27),
    ("9th St", "ew", 33.7357, -118.32, -118.27),
    ("22nd St", "ew", 33.7230, -118.32, -118.27),
    ("25th St", "ew", 33.7175, -118.32, -118.27),
    ("Paseo Del Mar", "ew", 33.7085, -118.32, -118.28),
)

_KM_PER_DEG_LAT = 111.0
_KM_PER_DEG_LON = 92.3  # at 34 degrees north
_EL_PUEBLO = (-118.2393, 34.0573)


def _scaled(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return np.column_stack([lon * _KM_PER_DEG_LON, lat * _KM_PER_DEG_LAT])


def _nearest(points: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Index of the nearest seed for each point (both in km), in bounded-memory batches."""
    out = np.empty(len(points), dtype=np.int64)
    for i in range(0, len(points), 20_000):
        d = ((points[i : i + 20_000, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
        out[i : i + 20_000] = d.argmin(axis=1)
    return out


def council_districts(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """District 1..15 of the nearest seed point, so neighbouring parcels share a district."""
    seeds = np.array(_CD_SEEDS)
    idx = _nearest(_scaled(lon, lat), _scaled(seeds[:, 0], seeds[:, 1]))
    return seeds[idx, 2].astype(np.int64)


def neighbourhoods(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """Name of the nearest neighbourhood, used to name buildings ("Van Nuys Branch Library")."""
    lons = np.array([n[1] for n in _NEIGHBOURHOODS])
    lats = np.array([n[2] for n in _NEIGHBOURHOODS])
    idx = _nearest(_scaled(lon, lat), _scaled(lons, lats))
    return [_NEIGHBOURHOODS[i][0] for i in idx]


def near_el_pueblo(lon: np.ndarray, lat: np.ndarray, km: float = 1.5) -> np.ndarray:
    d = _scaled(lon, lat) - _scaled(np.array([_EL_PUEBLO[0]]), np.array([_EL_PUEBLO[1]]))
    return np.hypot(d[:, 0], d[:, 1]) < km


def _nearest_streets(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest street segment and the signed offset of the point from it (km)."""
    ns = np.array([s[1] == "ns" for s in _STREETS])
    pos, lo, hi = (np.array([s[k] for s in _STREETS]) for k in (2, 3, 4))
    best = np.empty(len(lon), dtype=np.int64)
    for i in range(0, len(lon), 10_000):
        x, y = lon[i : i + 10_000, None], lat[i : i + 10_000, None]
        along = np.where(ns, y, x)
        across = np.where(ns, (x - pos) * _KM_PER_DEG_LON, (y - pos) * _KM_PER_DEG_LAT)
        beyond = np.maximum(np.maximum(lo - along, along - hi), 0.0)
        beyond = beyond * np.where(ns, _KM_PER_DEG_LAT, _KM_PER_DEG_LON)
        best[i : i + 10_000] = (across**2 + beyond**2).argmin(axis=1)
    offset = np.where(
        ns[best], (lon - pos[best]) * _KM_PER_DEG_LON, (lat - pos[best]) * _KM_PER_DEG_LAT
    )
    return best, offset


def addresses(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """LA-style street addresses on the nearest real arterial.

    House numbers grow with distance from 1st St (north/south) and Main St (east/west)
    downtown; the Valley drops the direction prefix, San Pedro and Wilmington count from
    their own baselines, and odd/even numbers face each other across the street.
    """
    best, offset = _nearest_streets(lon, lat)
    ns = np.array([_STREETS[i][1] == "ns" for i in best])
    valley = (lat > 34.14) & (lon < -118.34)
    harbor = lat < 33.80
    base_lat = np.where(harbor, 33.7425, 34.0515)
    base_lon = np.where(harbor, -118.2795, -118.2437)
    rate_ns = np.where(valley, 420.0, np.where(harbor, 1000.0, 850.0))
    rate_ew = np.where(valley, 640.0, np.where(harbor, 1000.0, 700.0))
    d_ns = (lat - base_lat) * _KM_PER_DEG_LAT
    d_ew = (lon - base_lon) * _KM_PER_DEG_LON
    number = np.where(ns, np.abs(d_ns) * rate_ns, np.abs(d_ew) * rate_ew).astype(np.int64)
    number = np.maximum(number, 100)
    number = number - number % 2 + (offset > 0).astype(np.int64)
    prefix = np.where(ns, np.where(d_ns >= 0, "N ", "S "), np.where(d_ew >= 0, "E ", "W "))
    prefix = np.where(valley, "", prefix)
    parts = zip(number.tolist(), prefix.tolist(), best.tolist(), strict=True)
    return [f"{n} {p}{_STREETS[s][0]}" for n, p, s in parts]
