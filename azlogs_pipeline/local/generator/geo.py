"""Countries, cities with coordinates, address blocks and autonomous systems.

Each country owns distinct IPv4 /16 blocks: user addresses come from ``user_blocks`` and attack
infrastructure from ``ATTACKER_BLOCKS``, so no address is ever shared by accident.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    country: str
    name: str
    state: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    home_weight: float
    cities: tuple[City, ...]
    user_blocks: tuple[tuple[int, int], ...]
    asns: tuple[int, ...]
    azure_region: str


def _c(
    code: str,
    name: str,
    weight: float,
    region: str,
    blocks: tuple[tuple[int, int], ...],
    asns: tuple[int, ...],
    *cities: tuple[str, str, float, float],
) -> Country:
    return Country(code, name, weight, tuple(City(code, *c) for c in cities), blocks, asns, region)


COUNTRIES: tuple[Country, ...] = (
    _c(
        "US",
        "United States",
        35,
        "eastus",
        ((73, 12), (98, 160), (24, 30)),
        (7922, 701, 20115, 7018),
        ("New York", "New York", 40.7128, -74.0060),
        ("Seattle", "Washington", 47.6062, -122.3321),
        ("Chicago", "Illinois", 41.8781, -87.6298),
        ("Los Angeles", "California", 34.0522, -118.2437),
        ("Dallas", "Texas", 32.7767, -96.7970),
        ("Atlanta", "Georgia", 33.7490, -84.3880),
        ("Boston", "Massachusetts", 42.3601, -71.0589),
        ("Detroit", "Michigan", 42.3314, -83.0458),
        ("San Diego", "California", 32.7157, -117.1611),
    ),
    _c(
        "GB",
        "United Kingdom",
        10,
        "uksouth",
        ((81, 96), (86, 140)),
        (2856, 5089, 5607),
        ("London", "England", 51.5074, -0.1278),
        ("Manchester", "England", 53.4808, -2.2426),
        ("Edinburgh", "Scotland", 55.9533, -3.1883),
    ),
    _c(
        "DE",
        "Germany",
        10,
        "germanywestcentral",
        ((87, 150), (91, 64)),
        (3320, 3209, 6805),
        ("Berlin", "Berlin", 52.5200, 13.4050),
        ("Munich", "Bayern", 48.1351, 11.5820),
        ("Frankfurt am Main", "Hessen", 50.1109, 8.6821),
        ("Hamburg", "Hamburg", 53.5511, 9.9937),
    ),
    _c(
        "IN",
        "India",
        12,
        "centralindia",
        ((49, 36), (117, 200)),
        (24560, 55836, 45609),
        ("Bengaluru", "Karnataka", 12.9716, 77.5946),
        ("Mumbai", "Maharashtra", 19.0760, 72.8777),
        ("Hyderabad", "Telangana", 17.3850, 78.4867),
        ("New Delhi", "Delhi", 28.6139, 77.2090),
    ),
    _c(
        "FR",
        "France",
        5,
        "francecentral",
        ((90, 20), (82, 64)),
        (3215, 12322),
        ("Paris", "Ile-De-France", 48.8566, 2.3522),
        ("Lyon", "Auvergne-Rhone-Alpes", 45.7640, 4.8357),
        ("Lille", "Hauts-De-France", 50.6292, 3.0573),
    ),
    _c(
        "NL",
        "Netherlands",
        4,
        "westeurope",
        ((84, 80), (145, 53)),
        (1136, 33915),
        ("Amsterdam", "Noord-Holland", 52.3676, 4.9041),
        ("Rotterdam", "Zuid-Holland", 51.9244, 4.4777),
    ),
    _c(
        "CA",
        "Canada",
        5,
        "canadacentral",
        ((99, 230), (142, 112)),
        (812, 577),
        ("Toronto", "Ontario", 43.6532, -79.3832),
        ("Vancouver", "British Columbia", 49.2827, -123.1207),
        ("Windsor", "Ontario", 42.3149, -83.0364),
        ("Montreal", "Quebec", 45.5019, -73.5674),
    ),
    _c(
        "AU",
        "Australia",
        4,
        "australiaeast",
        ((101, 160), (120, 148)),
        (1221, 4804),
        ("Sydney", "New South Wales", -33.8688, 151.2093),
        ("Melbourne", "Victoria", -37.8136, 144.9631),
        ("Perth", "Western Australia", -31.9505, 115.8605),
    ),
    _c(
        "JP",
        "Japan",
        3,
        "japaneast",
        ((126, 76), (153, 240)),
        (2516, 17676),
        ("Tokyo", "Tokyo", 35.6762, 139.6503),
        ("Osaka", "Osaka", 34.6937, 135.5023),
    ),
    _c(
        "BR",
        "Brazil",
        3,
        "brazilsouth",
        ((177, 32), (189, 4)),
        (28573, 18881),
        ("Sao Paulo", "Sao Paulo", -23.5505, -46.6333),
        ("Rio De Janeiro", "Rio De Janeiro", -22.9068, -43.1729),
    ),
    _c(
        "ES",
        "Spain",
        2,
        "spaincentral",
        ((83, 44), (88, 26)),
        (3352, 12479),
        ("Madrid", "Madrid", 40.4168, -3.7038),
        ("Barcelona", "Catalunya", 41.3874, 2.1686),
    ),
    _c(
        "IT",
        "Italy",
        2,
        "italynorth",
        ((79, 20), (93, 40)),
        (3269, 1267),
        ("Milan", "Lombardia", 45.4642, 9.1900),
        ("Rome", "Lazio", 41.9028, 12.4964),
    ),
    _c(
        "PL",
        "Poland",
        2,
        "polandcentral",
        ((83, 24), (89, 64)),
        (5617, 12741),
        ("Warsaw", "Mazowieckie", 52.2297, 21.0122),
        ("Krakow", "Malopolskie", 50.0647, 19.9450),
    ),
    _c(
        "IE",
        "Ireland",
        2,
        "northeurope",
        ((86, 40), (89, 100)),
        (5466, 15502),
        ("Dublin", "Dublin", 53.3498, -6.2603),
    ),
    _c(
        "AT",
        "Austria",
        1,
        "westeurope",
        ((80, 108), (91, 112)),
        (8447,),
        ("Vienna", "Wien", 48.2082, 16.3738),
    ),
    _c(
        "SK",
        "Slovakia",
        0,
        "westeurope",
        ((92, 52),),
        (6855,),
        ("Bratislava", "Bratislavsky", 48.1486, 17.1077),
    ),
    _c(
        "BE",
        "Belgium",
        1,
        "westeurope",
        ((81, 82), (94, 224)),
        (5432,),
        ("Brussels", "Brussels", 50.8503, 4.3517),
    ),
    _c(
        "CH",
        "Switzerland",
        1,
        "switzerlandnorth",
        ((85, 0), (178, 197)),
        (3303,),
        ("Zurich", "Zurich", 47.3769, 8.5417),
    ),
    _c(
        "SE",
        "Sweden",
        1,
        "swedencentral",
        ((78, 72), (83, 248)),
        (3301,),
        ("Stockholm", "Stockholm", 59.3293, 18.0686),
    ),
    _c(
        "SG",
        "Singapore",
        1,
        "southeastasia",
        ((116, 86), (118, 200)),
        (9506, 4773),
        ("Singapore", "Singapore", 1.3521, 103.8198),
    ),
    _c(
        "MX",
        "Mexico",
        1,
        "mexicocentral",
        ((187, 140), (201, 141)),
        (8151,),
        ("Mexico City", "Ciudad de Mexico", 19.4326, -99.1332),
        ("Tijuana", "Baja California", 32.5149, -117.0382),
    ),
    _c(
        "ZA",
        "South Africa",
        1,
        "southafricanorth",
        ((105, 224), (41, 13)),
        (37457,),
        ("Johannesburg", "Gauteng", -26.2041, 28.0473),
    ),
    _c("RU", "Russia", 0, "", ((95, 24),), (12389,), ("Moscow", "Moscow", 55.7558, 37.6173)),
    _c("CN", "China", 0, "", ((223, 104),), (4134,), ("Beijing", "Beijing", 39.9042, 116.4074)),
    _c("NG", "Nigeria", 0, "", ((105, 112),), (29465,), ("Lagos", "Lagos", 6.5244, 3.3792)),
    _c("RO", "Romania", 0, "", ((89, 34),), (8708,), ("Bucharest", "Bucuresti", 44.4268, 26.1025)),
    _c("VN", "Vietnam", 0, "", ((113, 160),), (7552,), ("Hanoi", "Ha Noi", 21.0278, 105.8342)),
    _c("UA", "Ukraine", 0, "", ((176, 36),), (15895,), ("Kyiv", "Kyiv", 50.4501, 30.5234)),
    _c("KR", "South Korea", 0, "", ((211, 36),), (4766,), ("Seoul", "Seoul", 37.5665, 126.9780)),
    _c("TR", "Turkey", 0, "", ((78, 160),), (9121,), ("Istanbul", "Istanbul", 41.0082, 28.9784)),
)

BY_CODE: dict[str, Country] = {c.code: c for c in COUNTRIES}

# Hosting ranges used by attack infrastructure (never handed to a user), per country.
ATTACKER_BLOCKS: dict[str, tuple[int, int]] = {
    "RU": (185, 220),
    "CN": (45, 155),
    "NG": (102, 89),
    "RO": (193, 29),
    "VN": (103, 57),
    "UA": (91, 245),
    "KR": (43, 200),
    "TR": (5, 188),
    "NL": (185, 107),
    "US": (104, 244),
    "BR": (179, 43),
    "DE": (194, 26),
    "SG": (139, 59),
    "FR": (51, 158),
}
ATTACKER_COUNTRIES = ("RU", "CN", "NG", "RO", "VN", "UA", "KR", "TR", "NL", "BR", "SG", "FR")

# Azure datacenter egress used by service principals and managed identities.
AZURE_BLOCKS = ((20, 42), (40, 74), (52, 169), (13, 69), (20, 191))


def distance_km(a: City, b: City) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


def block_address(block: tuple[int, int], index: int) -> str:
    """The ``index``-th host address of a /16 block (skips .0, .1 and .255)."""
    third, fourth = divmod(index, 253)
    if third > 255:
        raise ValueError("address block exhausted")
    return f"{block[0]}.{block[1]}.{third}.{fourth + 2}"
