import CairnCore
import CairnHTTP
import CairnNodeCore

/// The operator's steering of handoff (`POST /v1/cluster/transfers`, `cairn cluster
/// transfers`), applied to every core instance of the node (each sends its own partitions).
extension Node {
    func steerTransfers(_ steering: TransferSteering) async throws -> JSONValue {
        var target: NodeID?
        if case .cancel(_, let name?) = steering {
            guard let member = await home.member(named: name) else { throw KeyValueServiceError.nodeNotFound(name) }
            target = member
        }
        var perInstance = steering
        if case .throttle(let bytesPerSecond) = steering {
            guard bytesPerSecond >= NodeCore.minimumHandoffBytesPerSecond else {
                throw KeyValueServiceError.membershipConflict(
                    "a throttle of \(bytesPerSecond) bytes/s is below \(NodeCore.minimumHandoffBytesPerSecond)")
            }
            // The node's throttle is shared by its instances, as the configured one is.
            perInstance = .throttle(bytesPerSecond: max(1, bytesPerSecond / instances.count))
        }
        var cancelled = 0
        var noMatch = 0
        for instance in instances {
            switch try await instance.steer(perInstance, target: target) {
            case .some(let count): cancelled += count
            case nil: noMatch += 1
            }
        }
        if case .cancel(let partition, _) = steering, cancelled == 0, noMatch > 0 {
            throw KeyValueServiceError(.transferNotFound, "this node sends no transfer of partition \(partition)\(target.map { " to \($0)" } ?? "")")
        }
        let state = await handoffSteering()
        shared.logger.notice("handoff steered", metadata: [
            "cairn.steering": "\(steering)", "cairn.paused": "\(state.paused)", "cairn.bytes_per_second": "\(state.bytesPerSecond)",
        ])
        var answer: [String: JSONValue] = ["paused": .bool(state.paused), "bytes_per_second": .integer(Int64(state.bytesPerSecond))]
        if case .cancel = steering { answer["cancelled"] = .integer(Int64(cancelled)) }
        return .object(answer)
    }
}

extension Node {
    /// Paused (every instance is paused alike) and the node's throttle (the instances' shares summed).
    func handoffSteering() async -> (paused: Bool, bytesPerSecond: Int) {
        var paused = false
        var rate = 0
        for instance in instances {
            let state = await instance.handoffSteering()
            paused = paused || state.paused
            rate += state.bytesPerSecond
        }
        return (paused, rate)
    }
}

extension NodeInstance {
    func member(named name: String) -> NodeID? { core.member(named: name) }

    func handoffSteering() -> (paused: Bool, bytesPerSecond: Int) { core.handoffSteering }

    /// Applies `steering` to this instance; for a cancel, the transfers it cancelled (nil when
    /// none of this instance's matched).
    func steer(_ steering: TransferSteering, target: NodeID?) throws -> Int? {
        var commands: [NodeCommand] = []
        var cancelled: Int? = 0
        let now = clockNow()
        let wallNow = wallTime()
        do {
            switch steering {
            case .pause:
                commands = core.pauseHandoff()
            case .resume:
                commands = core.resumeHandoff(now: now, wallNow: wallNow)
            case .throttle(let bytesPerSecond):
                commands = try core.setHandoffThrottle(bytesPerSecond: bytesPerSecond, now: now, wallNow: wallNow)
            case .cancel(let partition, _):
                guard shard.owns(partition) else { return nil }
                commands = try core.cancelTransfers(partition: partition, target: target, now: now, wallNow: wallNow)
                cancelled = commands.reduce(0) { count, command in
                    if case .notice(.transferEnded) = command { count + 1 } else { count }
                }
            }
        } catch .noSuchTransfer {
            return nil
        } catch .leaving {
            throw KeyValueServiceError.membershipConflict("this node is leaving: it must hand everything off, so its transfers cannot be cancelled")
        } catch .invalidThrottle(let value) {
            throw KeyValueServiceError.membershipConflict("a throttle of \(value) bytes/s moves nothing")
        }
        drive { _, _, _ in commands }
        return cancelled
    }
}
