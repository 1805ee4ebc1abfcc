import CairnCore
import NIOCore

// Membership messages (`Membership.Message`), all one-way. Layouts in docs/protocol.md.

extension ByteBuffer {
    mutating func writeMembership(_ message: Membership.Message) {
        writeEnvelope(message.envelope)
        switch message {
        case .digest(_, let versions, let ring):
            let sorted = versions.sorted { $0.key < $1.key }
            writeWireArray(sorted) { buffer, entry in
                buffer.writeNodeID(entry.key)
                buffer.writeMemberVersion(entry.value)
            }
            writeWireOptional(ring) { buffer, stamp in
                buffer.writeInteger(stamp.version)
                buffer.writeInteger(stamp.fingerprint)
            }
        case .delta(_, let members, let ring, let wanted, let wantsRing):
            writeWireArray(members) { $0.writeMember($1) }
            writeWireOptional(ring) { $0.writeVersionedRing($1) }
            writeWireArray(wanted) { $0.writeNodeID($1) }
            writeWireBool(wantsRing)
        case .update(_, let members, let ring):
            writeWireArray(members) { $0.writeMember($1) }
            writeWireOptional(ring) { $0.writeVersionedRing($1) }
        case .heartbeat(_, let sequence), .heartbeatReply(_, let sequence):
            writeInteger(sequence)
        }
    }

    mutating func writeEnvelope(_ envelope: Membership.Envelope) {
        writeWireString(envelope.clusterName)
        writeNodeID(envelope.from)
        writeWireString(envelope.fromAddress)
    }

    mutating func writeMemberVersion(_ version: Membership.Member.Version) {
        writeInteger(version.tombstone)
        writeInteger(version.incarnation)
        writeInteger(version.status.rawValue)
        writeInteger(version.addressFingerprint)
        writeInteger(version.proofFingerprint)
    }

    mutating func writeMember(_ member: Membership.Member) {
        writeNodeID(member.id)
        writeWireString(member.address)
        writeInteger(member.status.rawValue)
        writeInteger(member.incarnation)
        writeWireOptional(member.proof) { buffer, proof in
            buffer.writeBytes(proof.key)
            buffer.writeBytes(proof.signature)
        }
    }

    /// version, N, the sorted members, then each partition's owner as a u16 index into them.
    mutating func writeVersionedRing(_ versioned: Membership.VersionedRing) {
        let ring = versioned.ring
        precondition(ring.members.count <= Int(UInt16.max) + 1, "ring of \(ring.members.count) members does not fit u16 indices")
        writeInteger(versioned.version)
        writeWireCount(ring.targetReplicas)
        writeWireArray(ring.members) { $0.writeNodeID($1) }
        var index: [NodeID: Int] = [:]
        for (position, member) in ring.members.enumerated() { index[member] = position }
        writeWireArray(ring.owners) { buffer, owner in buffer.writeInteger(UInt16(index[owner]!)) }
    }
}

extension WireReader {
    mutating func membership(_ type: WireMessage.MessageType) throws(WireError) -> Membership.Message {
        let envelope = try self.envelope()
        switch type {
        case .membershipDigest:
            // node (16) + version (26) per entry.
            let count = try self.count("digest count", limit: limits.maxMembers, minimumElementBytes: 42)
            var versions: [NodeID: Membership.Member.Version] = [:]
            versions.reserveCapacity(count)
            var previous: NodeID?
            for _ in 0..<count {
                let at = offset
                let node = try nodeID()
                if let previous, !(previous < node) {
                    throw error(.malformed, "digest node \(node) not after \(previous)", at: at)
                }
                previous = node
                versions[node] = try memberVersion()
            }
            let stamp = try optional("ring stamp") { (reader: inout WireReader) throws(WireError) in
                Membership.VersionedRing.Stamp(version: try reader.logicalClock("ring version"), fingerprint: try reader.u64("ring fingerprint"))
            }
            return .digest(envelope, versions: versions, ring: stamp)
        case .membershipDelta:
            let members = try self.members()
            let ring = try optional("ring") { (reader: inout WireReader) throws(WireError) in try reader.versionedRing() }
            let wanted = try array("wanted", limit: limits.maxMembers, minimumElementBytes: 16) {
                (reader: inout WireReader) throws(WireError) in try reader.nodeID()
            }
            return .delta(envelope, members: members, ring: ring, wanted: wanted, wantsRing: try bool("wants ring"))
        case .membershipUpdate:
            let members = try self.members()
            let ring = try optional("ring") { (reader: inout WireReader) throws(WireError) in try reader.versionedRing() }
            return .update(envelope, members: members, ring: ring)
        case .membershipHeartbeat:
            return .heartbeat(envelope, sequence: try u64("sequence"))
        case .membershipHeartbeatReply:
            return .heartbeatReply(envelope, sequence: try u64("sequence"))
        default:
            preconditionFailure("membership decoder called for \(type)")
        }
    }

    mutating func envelope() throws(WireError) -> Membership.Envelope {
        Membership.Envelope(clusterName: try string("cluster name"), from: try nodeID("from"), fromAddress: try string("from address"))
    }

    mutating func status() throws(WireError) -> Membership.Status {
        let at = offset
        let raw = try u8("status")
        guard let status = Membership.Status(rawValue: raw) else { throw error(.malformed, "member status \(raw)", at: at) }
        return status
    }

    mutating func memberVersion() throws(WireError) -> Membership.Member.Version {
        let at = offset
        let tombstone = try u8("tombstone rank")
        guard tombstone <= 2 else { throw error(.malformed, "tombstone rank \(tombstone)", at: at) }
        let incarnation = try logicalClock("incarnation")
        let status = try self.status()
        return Membership.Member.Version(
            tombstone: tombstone, incarnation: incarnation, status: status, addressFingerprint: try u64("address fingerprint"),
            proofFingerprint: try u64("proof fingerprint"))
    }

    mutating func member() throws(WireError) -> Membership.Member {
        let id = try nodeID("member")
        let address = try string("member address")
        let status = try self.status()
        let incarnation = try logicalClock("incarnation")
        let proof = try optional("member proof") { (reader: inout WireReader) throws(WireError) in
            Membership.Proof(key: try reader.raw("proof key", length: Membership.Proof.keyBytes),
                             signature: try reader.raw("proof signature", length: Membership.Proof.signatureBytes))
        }
        return Membership.Member(id: id, address: address, status: status, incarnation: incarnation, proof: proof)
    }

    /// node (16) + address length (2) + status (1) + incarnation (8) + proof flag (1): at
    /// least 28 bytes each.
    mutating func members() throws(WireError) -> [Membership.Member] {
        try array("member", limit: limits.maxMembers, minimumElementBytes: 28) {
            (reader: inout WireReader) throws(WireError) in try reader.member()
        }
    }

    mutating func versionedRing() throws(WireError) -> Membership.VersionedRing {
        let version = try logicalClock("ring version")
        let replicasAt = offset
        let targetReplicas = Int(try u32("target replicas"))
        guard targetReplicas >= 1 else { throw error(.malformed, "target replicas \(targetReplicas)", at: replicasAt) }
        let membersAt = offset
        let memberLimit = min(limits.maxMembers, Int(UInt16.max) + 1)
        let count = try self.count("ring member count", limit: memberLimit, minimumElementBytes: 16)
        guard count >= 1 else { throw error(.malformed, "ring without members", at: membersAt) }
        var members: [NodeID] = []
        members.reserveCapacity(count)
        for _ in 0..<count {
            let at = offset
            let node = try nodeID("ring member")
            if let previous = members.last, !(previous < node) {
                throw error(.malformed, "ring member \(node) not after \(previous)", at: at)
            }
            members.append(node)
        }
        let ownersAt = offset
        let owners = try array("owner", limit: Ring.maximumPartitionCount, minimumElementBytes: 2) {
            (reader: inout WireReader) throws(WireError) -> NodeID in
            let at = reader.offset
            let index = Int(try reader.u16("owner index"))
            guard index < members.count else {
                throw reader.error(.malformed, "owner index \(index) of \(members.count) members", at: at)
            }
            return members[index]
        }
        guard let ring = Ring(owners: owners, members: members, targetReplicas: targetReplicas) else {
            throw error(.malformed, "\(owners.count) partitions is not a power of two in 1...\(Ring.maximumPartitionCount)", at: ownersAt)
        }
        return Membership.VersionedRing(version: version, ring: ring)
    }
}
