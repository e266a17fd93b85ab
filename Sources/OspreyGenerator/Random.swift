import OspreyCore
/// SplitMix64: small, fast, and the same sequence on every platform for a seed (the generator must be
/// deterministic; Swift's SystemRandomNumberGenerator is not seedable).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var core: SplitMix64
    public init(seed: UInt64) { core = SplitMix64(state: seed &+ 0x9E37_79B9_7F4A_7C15) }
    public mutating func next() -> UInt64 { core.next() }
    public mutating func int(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    public mutating func int(in r: ClosedRange<Int>) -> Int { r.lowerBound + int(r.count) }
    public mutating func chance(_ p: Double) -> Bool { unit() < p }
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    public mutating func pick<T>(_ a: [T]) -> T { a[int(a.count)] }
    /// Poisson-distributed count (Knuth; fine for the small means used here).
    public mutating func poisson(_ mean: Double) -> Int {
        let l = exp(-mean)
        var k = 0
        var p = 1.0
        repeat { k += 1; p *= unit() } while p > l
        return k - 1
    }
    /// Log-normal around a median, for sizes.
    public mutating func logNormal(median: Double, sigma: Double) -> Double {
        let u1 = max(unit(), 1e-12), u2 = unit()
        let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return median * exp(sigma * z)
    }
}

#if canImport(Glibc)
import Glibc
#endif
