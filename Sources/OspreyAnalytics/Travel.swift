import OspreyCore
#if canImport(Glibc)
import Glibc
#endif

/// Where a country's places lie: its centroid and a radius that covers its main populated places
/// (content: `[geo countries]`, docs/analytics.md "Travel speed"). Only the country of an address is known
/// (enrichment resolves countries, not cities), so two activities are at least
/// `max(0, centroid distance − radius A − radius B)` apart: the distance travel speed is judged on.
public struct GeoPlace: Sendable, Equatable {
    public var latitude: Double
    public var longitude: Double
    public var radiusKm: Double
}

public struct GeoTable: Sendable {
    public private(set) var places: [String: GeoPlace] = [:]
    public init() {}

    public subscript(country: String) -> GeoPlace? { places[country] }

    /// `entries = CC LAT LON RADIUS_KM` lines of a `[geo countries]` section, validated with file:line.
    static func parse(_ s: ContentSection) throws -> GeoTable {
        try s.checkKeys(allowed: ["entries", "description", "source"])
        guard s.name == "countries" else { throw s.error(at: s.line, "a geo table is '[geo countries]' (country positions), got '[geo \(s.name)]'") }
        var t = GeoTable()
        for e in s.all("entries") {
            let p = e.value.split(separator: " ", omittingEmptySubsequences: true)
            guard p.count == 4 else { throw s.error(at: e.line, column: e.valueColumn, "expected 'CC latitude longitude radius_km', got '\(e.value)'") }
            let cc = String(p[0])
            guard cc.utf8.count == 2, cc.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                throw s.error(at: e.line, column: e.valueColumn, "'\(cc)' is not a two-letter upper-case country code")
            }
            guard let lat = Double(p[1]), lat.isFinite, (-90...90).contains(lat),
                  let lon = Double(p[2]), lon.isFinite, (-180...180).contains(lon) else {
                throw s.error(at: e.line, column: e.valueColumn, "latitude must be -90…90 and longitude -180…180, got '\(p[1]) \(p[2])'")
            }
            guard let r = Double(p[3]), r.isFinite, (0...10_000).contains(r) else {
                throw s.error(at: e.line, column: e.valueColumn, "radius_km must be a number 0…10000, got '\(p[3])'")
            }
            guard t.places[cc] == nil else { throw s.error(at: e.line, column: e.valueColumn, "country \(cc) listed twice") }
            t.places[cc] = GeoPlace(latitude: lat, longitude: lon, radiusKm: r)
        }
        guard !t.places.isEmpty else { throw s.error(at: s.line, "[geo countries] has no entries") }
        return t
    }

    /// Great-circle distance in km (haversine, mean Earth radius).
    static func distanceKm(_ a: GeoPlace, _ b: GeoPlace) -> Double {
        let rad = Double.pi / 180
        let dLat = (b.latitude - a.latitude) * rad, dLon = (b.longitude - a.longitude) * rad
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(a.latitude * rad) * cos(b.latitude * rad) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * 6_371.0088 * asin(min(1, max(0, h)).squareRoot())
    }
}

/// The move between a person's previous geolocated activity and this one.
struct TravelLeg {
    var fromCountry: String
    var toCountry: String
    var fromMillis: Int64
    var minutes: Double
    var centroidKm: Double
    /// The shortest distance consistent with both countries (centroid distance less both radii, ≥ 0).
    var km: Double
    /// km per hour over the elapsed time (at least one minute).
    var kmh: Double

    var evidence: JSONValue {
        .object([("from_country", .string(fromCountry)), ("to_country", .string(toCountry)),
                 ("from_time", .string(UTCTime.format(fromMillis))), ("minutes", .double((minutes * 10).rounded() / 10)),
                 ("centroid_km", .double(centroidKm.rounded())), ("min_km", .double(km.rounded())), ("kmh", .double(kmh.rounded()))])
    }
}

/// Each person's last geolocated activity (the content macro `travel_fix` decides which events place a
/// person). Bounded: a fix older than `horizonMillis` cannot make any speed worth judging (half the Earth's
/// circumference in 48 h is 417 km/h) and is forgotten; a sweep every 4,096 updates drops them. Part of
/// the durable state (the analytics image, version 2), renumbered when the interner is compacted.
final class TravelMemory {
    struct Fix { var millis: Int64; var country: String; var place: GeoPlace }
    static let horizonMillis: Int64 = 48 * 3_600_000
    @exclusivity(unchecked) var last: [UInt32: Fix] = [:]
    @exclusivity(unchecked) var updates = 0

    func leg(user: UInt32, at t: Int64, country: String, place: GeoPlace) -> TravelLeg? {
        guard let f = last[user], t >= f.millis, t - f.millis <= TravelMemory.horizonMillis else { return nil }
        let centroid = f.country == country ? 0 : GeoTable.distanceKm(f.place, place)
        let km = max(0, centroid - f.place.radiusKm - place.radiusKm)
        let minutes = Double(t - f.millis) / 60_000
        let kmh = km / (max(minutes, 1) / 60)
        return TravelLeg(fromCountry: f.country, toCountry: country, fromMillis: f.millis, minutes: minutes,
                         centroidKm: centroid, km: km, kmh: kmh)
    }

    func record(user: UInt32, at t: Int64, country: String, place: GeoPlace) {
        last[user] = Fix(millis: t, country: country, place: place)
        updates &+= 1
        if updates % 4_096 == 0 {
            let oldest = t.subtractingReportingOverflow(TravelMemory.horizonMillis)
            if !oldest.overflow { last = last.filter { $0.value.millis >= oldest.partialValue } }
        }
    }
}

extension EvalContext {
    /// This event's travel leg (memoized per event): nil without a geo table, a country with a position, or
    /// a previous fix of the person within the horizon.
    func travelLeg() -> TravelLeg? {
        if legGeneration == generation { return legValue }
        legGeneration = generation
        legValue = nil
        guard let geo = state.content.geo, let s = session, let cc = event.string(TravelFields.srcCountry),
              let place = geo[cc] else { return nil }
        legValue = travel.leg(user: s.userId, at: clock, country: cc, place: place)
        return legValue
    }

    /// After the rules: places the person here when the content's `travel_fix` says the event does.
    func recordTravelFix(_ fix: Eval) {
        guard let geo = state.content.geo, let s = session, let cc = event.string(TravelFields.srcCountry),
              let place = geo[cc] else { return }
        let mark = matches.count
        let ok = fix(self).truthy
        if matches.count > mark { matches.removeSubrange(mark...) }
        if ok { travel.record(user: s.userId, at: clock, country: cc, place: place) }
    }
}

enum TravelFields {
    static let srcCountry = Field.named("src_country")
}
