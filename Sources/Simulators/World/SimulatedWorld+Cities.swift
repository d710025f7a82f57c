extension SimulatedWorld {
    /// The 31 cities of the default world. Ids, coordinates, elevations and populations follow GeoNames (as the
    /// real geocoders do); four Londons, two Parises and five Springfields make disambiguation testable.
    public static let defaultCities: [City] = [
        // The four Londons of the fixtures, in their order of size.
        City(
            id: 2_643_743, name: "London", region: "England", countryCode: "GB", country: "United Kingdom",
            latitude: 51.50853, longitude: -0.12574, elevation: 25, population: 8_961_989,
            timeZone: "Europe/London", utcOffsetSeconds: 0, featureCode: "PPLC",
            localNames: ["en": "London", "de": "London", "fr": "Londres", "es": "Londres", "it": "Londra", "ja": "ロンドン", "ru": "Лондон", "zh": "伦敦"]
        ),
        City(
            id: 6_058_560, name: "London", region: "Ontario", regionCode: "ON", countryCode: "CA", country: "Canada",
            latitude: 42.98339, longitude: -81.23304, elevation: 252, population: 346_765,
            timeZone: "America/Toronto", utcOffsetSeconds: -18_000,
            localNames: ["en": "London", "fr": "London", "ru": "Лондон"]
        ),
        City(
            id: 4_517_009, name: "London", region: "Ohio", regionCode: "OH", countryCode: "US", country: "United States",
            latitude: 39.88645, longitude: -83.44825, elevation: 321, population: 10_060,
            timeZone: "America/New_York", utcOffsetSeconds: -18_000, featureCode: "PPLA2"
        ),
        City(
            id: 4_298_960, name: "London", region: "Kentucky", regionCode: "KY", countryCode: "US", country: "United States",
            latitude: 37.12898, longitude: -84.08326, elevation: 378, population: 8_126,
            timeZone: "America/New_York", utcOffsetSeconds: -18_000, featureCode: "PPLA2"
        ),
        City(
            id: 2_950_159, name: "Berlin", region: "Berlin", countryCode: "DE", country: "Germany",
            latitude: 52.52437, longitude: 13.41053, elevation: 74, population: 3_426_354,
            timeZone: "Europe/Berlin", utcOffsetSeconds: 3_600, featureCode: "PPLC",
            localNames: ["en": "Berlin", "de": "Berlin", "fr": "Berlin", "es": "Berlín", "ja": "ベルリン", "ru": "Берлин"]
        ),
        City(
            id: 2_988_507, name: "Paris", region: "Île-de-France", countryCode: "FR", country: "France",
            latitude: 48.85341, longitude: 2.3488, elevation: 42, population: 2_138_551,
            timeZone: "Europe/Paris", utcOffsetSeconds: 3_600, featureCode: "PPLC",
            localNames: ["en": "Paris", "fr": "Paris", "de": "Paris", "ja": "パリ", "ru": "Париж"]
        ),
        City(
            id: 4_717_560, name: "Paris", region: "Texas", regionCode: "TX", countryCode: "US", country: "United States",
            latitude: 33.66094, longitude: -95.55551, elevation: 183, population: 24_782,
            timeZone: "America/Chicago", utcOffsetSeconds: -21_600, featureCode: "PPLA2"
        ),
        // Springfields: the classic "which one?" name.
        City(
            id: 4_409_896, name: "Springfield", region: "Missouri", regionCode: "MO", countryCode: "US", country: "United States",
            latitude: 37.21533, longitude: -93.29824, elevation: 396, population: 169_176,
            timeZone: "America/Chicago", utcOffsetSeconds: -21_600, featureCode: "PPLA2"
        ),
        City(
            id: 4_951_788, name: "Springfield", region: "Massachusetts", regionCode: "MA", countryCode: "US", country: "United States",
            latitude: 42.10148, longitude: -72.58981, elevation: 21, population: 155_929,
            timeZone: "America/New_York", utcOffsetSeconds: -18_000, featureCode: "PPLA2"
        ),
        City(
            id: 4_250_542, name: "Springfield", region: "Illinois", regionCode: "IL", countryCode: "US", country: "United States",
            latitude: 39.80172, longitude: -89.64371, elevation: 182, population: 114_394,
            timeZone: "America/Chicago", utcOffsetSeconds: -21_600, featureCode: "PPLA"
        ),
        City(
            id: 5_754_005, name: "Springfield", region: "Oregon", regionCode: "OR", countryCode: "US", country: "United States",
            latitude: 44.04624, longitude: -123.02203, elevation: 140, population: 62_256,
            timeZone: "America/Los_Angeles", utcOffsetSeconds: -28_800
        ),
        City(
            id: 4_525_353, name: "Springfield", region: "Ohio", regionCode: "OH", countryCode: "US", country: "United States",
            latitude: 39.92423, longitude: -83.80882, elevation: 298, population: 58_662,
            timeZone: "America/New_York", utcOffsetSeconds: -18_000, featureCode: "PPLA2"
        ),
        City(
            id: 1_850_147, name: "Tokyo", region: "Tokyo", countryCode: "JP", country: "Japan",
            latitude: 35.6895, longitude: 139.69171, elevation: 44, population: 9_733_276,
            timeZone: "Asia/Tokyo", utcOffsetSeconds: 32_400, featureCode: "PPLC",
            localNames: ["en": "Tokyo", "ja": "東京", "de": "Tokio", "fr": "Tokyo", "ru": "Токио"]
        ),
        City(
            id: 5_128_581, name: "New York", region: "New York", regionCode: "NY", countryCode: "US", country: "United States",
            latitude: 40.71427, longitude: -74.00597, elevation: 10, population: 8_804_190,
            timeZone: "America/New_York", utcOffsetSeconds: -18_000,
            localNames: ["en": "New York", "de": "New York", "fr": "New York", "es": "Nueva York", "ja": "ニューヨーク"],
            alternateNames: ["New York City", "NYC"]
        ),
        City(
            id: 2_147_714, name: "Sydney", region: "New South Wales", regionCode: "NSW", countryCode: "AU", country: "Australia",
            latitude: -33.86785, longitude: 151.20732, elevation: 58, population: 4_627_345,
            timeZone: "Australia/Sydney", utcOffsetSeconds: 36_000, featureCode: "PPLA",
            localNames: ["en": "Sydney", "ja": "シドニー", "ru": "Сидней"]
        ),
        City(
            id: 3_448_439, name: "São Paulo", region: "São Paulo", regionCode: "SP", countryCode: "BR", country: "Brazil",
            latitude: -23.5475, longitude: -46.63611, elevation: 769, population: 10_021_295,
            timeZone: "America/Sao_Paulo", utcOffsetSeconds: -10_800, featureCode: "PPLA",
            localNames: ["en": "São Paulo", "pt": "São Paulo", "ascii": "Sao Paulo", "ja": "サンパウロ"],
            alternateNames: ["Sao Paulo"]
        ),
        City(
            id: 2_657_896, name: "Zürich", region: "Zurich", regionCode: "ZH", countryCode: "CH", country: "Switzerland",
            latitude: 47.36667, longitude: 8.55, elevation: 429, population: 341_730,
            timeZone: "Europe/Zurich", utcOffsetSeconds: 3_600, featureCode: "PPLA",
            localNames: ["en": "Zurich", "de": "Zürich", "fr": "Zurich", "it": "Zurigo", "ascii": "Zurich"],
            alternateNames: ["Zurich", "Zuerich"]
        ),
        City(
            id: 3_413_829, name: "Reykjavík", region: "Capital Region", countryCode: "IS", country: "Iceland",
            latitude: 64.13548, longitude: -21.89541, elevation: 20, population: 118_918,
            timeZone: "Atlantic/Reykjavik", utcOffsetSeconds: 0, featureCode: "PPLC",
            localNames: ["en": "Reykjavik", "is": "Reykjavík", "ascii": "Reykjavik"],
            alternateNames: ["Reykjavik"]
        ),
        City(
            id: 360_630, name: "Cairo", region: "Cairo", countryCode: "EG", country: "Egypt",
            latitude: 30.06263, longitude: 31.24967, elevation: 23, population: 9_606_916,
            timeZone: "Africa/Cairo", utcOffsetSeconds: 7_200, featureCode: "PPLC",
            localNames: ["en": "Cairo", "ar": "القاهرة", "fr": "Le Caire", "de": "Kairo"],
            alternateNames: ["Al Qahirah"]
        ),
        City(
            id: 1_275_339, name: "Mumbai", region: "Maharashtra", regionCode: "MH", countryCode: "IN", country: "India",
            latitude: 19.07283, longitude: 72.88261, elevation: 14, population: 12_691_836,
            timeZone: "Asia/Kolkata", utcOffsetSeconds: 19_800, featureCode: "PPLA",
            localNames: ["en": "Mumbai", "hi": "मुंबई", "mr": "मुंबई"],
            alternateNames: ["Bombay"]
        ),
        City(
            id: 3_530_597, name: "Mexico City", region: "Mexico City", regionCode: "CMX", countryCode: "MX", country: "Mexico",
            latitude: 19.42847, longitude: -99.12766, elevation: 2_240, population: 12_294_193,
            timeZone: "America/Mexico_City", utcOffsetSeconds: -21_600, featureCode: "PPLC",
            localNames: ["en": "Mexico City", "es": "Ciudad de México", "fr": "Mexico"],
            alternateNames: ["Ciudad de México", "CDMX"]
        ),
        City(
            id: 3_369_157, name: "Cape Town", region: "Western Cape", regionCode: "WC", countryCode: "ZA", country: "South Africa",
            latitude: -33.92584, longitude: 18.42322, elevation: 25, population: 3_433_441,
            timeZone: "Africa/Johannesburg", utcOffsetSeconds: 7_200, featureCode: "PPLC",
            localNames: ["en": "Cape Town", "af": "Kaapstad", "xh": "iKapa"],
            alternateNames: ["Kaapstad"]
        ),
        City(
            id: 3_117_735, name: "Madrid", region: "Madrid", countryCode: "ES", country: "Spain",
            latitude: 40.4165, longitude: -3.70256, elevation: 665, population: 3_255_944,
            timeZone: "Europe/Madrid", utcOffsetSeconds: 3_600, featureCode: "PPLC",
            localNames: ["en": "Madrid", "es": "Madrid"]
        ),
        City(
            id: 3_169_070, name: "Rome", region: "Lazio", countryCode: "IT", country: "Italy",
            latitude: 41.89193, longitude: 12.51133, elevation: 20, population: 2_318_895,
            timeZone: "Europe/Rome", utcOffsetSeconds: 3_600, featureCode: "PPLC",
            localNames: ["en": "Rome", "it": "Roma", "de": "Rom", "fr": "Rome"],
            alternateNames: ["Roma"]
        ),
        City(
            id: 6_167_865, name: "Toronto", region: "Ontario", regionCode: "ON", countryCode: "CA", country: "Canada",
            latitude: 43.70011, longitude: -79.4163, elevation: 175, population: 2_600_000,
            timeZone: "America/Toronto", utcOffsetSeconds: -18_000, featureCode: "PPLA",
            localNames: ["en": "Toronto", "fr": "Toronto"]
        ),
        City(
            id: 5_391_959, name: "San Francisco", region: "California", regionCode: "CA", countryCode: "US", country: "United States",
            latitude: 37.77493, longitude: -122.41942, elevation: 16, population: 864_816,
            timeZone: "America/Los_Angeles", utcOffsetSeconds: -28_800, featureCode: "PPLA2",
            localNames: ["en": "San Francisco", "es": "San Francisco"]
        ),
        City(
            id: 1_880_252, name: "Singapore", region: "Central Singapore", countryCode: "SG", country: "Singapore",
            latitude: 1.28967, longitude: 103.85007, elevation: 15, population: 3_547_809,
            timeZone: "Asia/Singapore", utcOffsetSeconds: 28_800, featureCode: "PPLC",
            localNames: ["en": "Singapore", "ms": "Singapura", "zh": "新加坡"]
        ),
        City(
            id: 292_223, name: "Dubai", region: "Dubai", countryCode: "AE", country: "United Arab Emirates",
            latitude: 25.07725, longitude: 55.30927, elevation: 5, population: 3_478_300,
            timeZone: "Asia/Dubai", utcOffsetSeconds: 14_400, featureCode: "PPLA",
            localNames: ["en": "Dubai", "ar": "دبي"]
        ),
        City(
            id: 184_745, name: "Nairobi", region: "Nairobi County", countryCode: "KE", country: "Kenya",
            latitude: -1.28333, longitude: 36.81667, elevation: 1_661, population: 2_750_547,
            timeZone: "Africa/Nairobi", utcOffsetSeconds: 10_800, featureCode: "PPLC",
            localNames: ["en": "Nairobi", "sw": "Nairobi"]
        ),
        City(
            id: 3_435_910, name: "Buenos Aires", region: "Buenos Aires F.D.", countryCode: "AR", country: "Argentina",
            latitude: -34.61315, longitude: -58.37723, elevation: 25, population: 13_076_300,
            timeZone: "America/Argentina/Buenos_Aires", utcOffsetSeconds: -10_800, featureCode: "PPLC",
            localNames: ["en": "Buenos Aires", "es": "Buenos Aires"]
        ),
        City(
            id: 5_879_400, name: "Anchorage", region: "Alaska", regionCode: "AK", countryCode: "US", country: "United States",
            latitude: 61.21806, longitude: -149.90028, elevation: 31, population: 291_247,
            timeZone: "America/Anchorage", utcOffsetSeconds: -32_400, featureCode: "PPLA2"
        ),
    ]
}
