import Testing
@testable import CairnSim
import CairnCore

@Suite struct SimInfrastructureTests {
    @Test func aSeedReplaysExactlyAndForksAreIndependent() {
        var a = SimRandom(seed: 42), b = SimRandom(seed: 42)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        var c = SimRandom(seed: 43)
        #expect(first != (0..<100).map { _ in c.next() })
        var f1 = a.fork(1), f2 = a.fork(2)
        #expect(f1.next() != f2.next())
    }

    @Test func eventsRunInTimeThenSchedulingOrder() {
        var queue = EventQueue<String>()
        queue.schedule("c", at: 30)
        queue.schedule("a1", at: 10)
        queue.schedule("b", at: 20)
        queue.schedule("a2", at: 10)
        var order: [String] = []
        while let (time, event) = queue.next() {
            order.append(event)
            if event == "b" { queue.schedule("b+5", after: 5) }
            #expect(queue.now == time)
        }
        #expect(order == ["a1", "a2", "b", "b+5", "c"])
    }

    @Test func dropsAndDuplicatesHappenAtRoughlyTheirRates() {
        var network = SimNetwork(faults: .init(dropProbability: 0.2, duplicateProbability: 0.1))
        var random = SimRandom(seed: 7)
        var copies = 0
        for _ in 0..<20_000 { copies += network.deliveries(from: 0, to: 1, random: &random).count }
        #expect(abs(Double(network.dropped) / 20_000 - 0.2) < 0.02)
        #expect(abs(Double(network.duplicated) / 16_000 - 0.1) < 0.02)
        #expect(copies == 20_000 - network.dropped + network.duplicated)
    }

    @Test func partitionsCutExactlyTheLinksTheyName() {
        var network = SimNetwork()
        let all: Set = [0, 1, 2, 3, 4]
        network.split([0, 1], [2, 3, 4])
        #expect(!network.canReach(0, 2) && !network.canReach(3, 1))
        #expect(network.canReach(0, 1) && network.canReach(2, 4))
        network.heal()
        network.cutOneWay(from: [0], to: [1])
        #expect(!network.canReach(0, 1) && network.canReach(1, 0))
        network.heal()
        network.bridge([0, 1, 2], [2, 3, 4], through: 2)
        #expect(network.canReach(2, 0) && network.canReach(2, 4) && network.canReach(0, 2) && network.canReach(4, 2))
        #expect(!network.canReach(0, 4) && !network.canReach(3, 1))
        network.heal()
        network.isolate(3, from: all)
        #expect(all.subtracting([3]).allSatisfy { !network.canReach(3, $0) && !network.canReach($0, 3) })
        var random = SimRandom(seed: 1)
        #expect(network.deliveries(from: 3, to: 0, random: &random).isEmpty)
        #expect(network.deliveries(from: 3, to: 3, random: &random).count == 1, "a node always reaches itself")
    }
}
