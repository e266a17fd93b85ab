/// A binary min-heap. The assembler's two queues (open messages by anchor, events waiting for release)
/// are almost FIFO when input arrives in time order, so a push is usually one comparison.
struct MinHeap<Element: Comparable & Sendable>: Sendable {
    private(set) var items: [Element] = []

    init() {}

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var top: Element? { items.first }

    /// Appends without sifting (rebuilding a heap from its array order; check `isHeap` after).
    mutating func append(_ e: Element) { items.append(e) }

    /// Every element is no smaller than its parent.
    var isHeap: Bool { items.indices.dropFirst().allSatisfy { !(items[$0] < items[($0 - 1) / 2]) } }

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    @discardableResult
    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        if items.count == 1 { return items.removeLast() }
        items.swapAt(0, items.count - 1)
        let out = items.removeLast()
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < n, items[l] < items[m] { m = l }
            if r < n, items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return out
    }
}
