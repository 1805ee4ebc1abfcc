/// A simulated network between numbered nodes: delays (and so reordering), drops, duplicates,
/// and partitions of every shape Jepsen uses — symmetric splits, one-way (asymmetric) cuts and
/// bridges (a node that still talks to both sides).
///
/// It decides the fate of each message; the simulator schedules the deliveries it returns.
public struct SimNetwork: Sendable {
    public struct Faults: Sendable, Equatable {
        public var dropProbability: Double
        public var duplicateProbability: Double
        public var minimumDelayMilliseconds: UInt64
        public var maximumDelayMilliseconds: UInt64

        public init(dropProbability: Double = 0, duplicateProbability: Double = 0,
            minimumDelayMilliseconds: UInt64 = 1, maximumDelayMilliseconds: UInt64 = 10)
        {
            precondition(minimumDelayMilliseconds <= maximumDelayMilliseconds, "delay range")
            self.dropProbability = dropProbability
            self.duplicateProbability = duplicateProbability
            self.minimumDelayMilliseconds = minimumDelayMilliseconds
            self.maximumDelayMilliseconds = maximumDelayMilliseconds
        }

        /// A network that delivers everything once, in 1...10 ms.
        public static let calm = Faults()
    }

    public struct Link: Hashable, Sendable {
        public var from: Int
        public var to: Int
    }

    public var faults: Faults
    /// Directed links that deliver nothing.
    public private(set) var cut: Set<Link> = []
    public private(set) var sent = 0
    public private(set) var dropped = 0
    public private(set) var duplicated = 0

    public init(faults: Faults = .calm) { self.faults = faults }

    /// The delays after which copies of a message from `from` to `to` arrive: none when dropped
    /// or cut, two when duplicated.
    public mutating func deliveries(from: Int, to: Int, random: inout SimRandom) -> [UInt64] {
        sent += 1
        if from != to && cut.contains(Link(from: from, to: to)) {
            dropped += 1
            return []
        }
        if from != to && random.chance(faults.dropProbability) {
            dropped += 1
            return []
        }
        let range = faults.minimumDelayMilliseconds...faults.maximumDelayMilliseconds
        var delays = [random.between(range)]
        if random.chance(faults.duplicateProbability) {
            duplicated += 1
            delays.append(random.between(range))
        }
        return delays
    }

    public func canReach(_ from: Int, _ to: Int) -> Bool { from == to || !cut.contains(Link(from: from, to: to)) }

    // MARK: partitions

    /// Cuts every link between `a` and `b`, both ways.
    public mutating func split(_ a: Set<Int>, _ b: Set<Int>) {
        cutOneWay(from: a, to: b)
        cutOneWay(from: b, to: a)
    }

    /// Cuts the links from `a` to `b` only: `b` still hears nothing from `a`, `a` hears `b`.
    public mutating func cutOneWay(from a: Set<Int>, to b: Set<Int>) {
        for x in a { for y in b where x != y { cut.insert(Link(from: x, to: y)) } }
    }

    /// Isolates `node` from everyone in `all`.
    public mutating func isolate(_ node: Int, from all: Set<Int>) { split([node], all.subtracting([node])) }

    /// Splits `a` from `b` except through `bridge`, which keeps talking to both sides.
    public mutating func bridge(_ a: Set<Int>, _ b: Set<Int>, through bridge: Int) {
        split(a.subtracting([bridge]), b.subtracting([bridge]))
    }

    /// Restores every link.
    public mutating func heal() { cut.removeAll() }
}
