import CairnCore
import CairnWire
import Logging
import NIOCore
import NIOPosix

// The loop-confined half of WirePeer: queueing, connecting, writing, matching answers.
extension WirePeer {
    /// Why a new message of `bytes` cannot be taken now, if it cannot.
    func refusal(forBytes bytes: Int) -> TransportError? {
        eventLoop.assertInEventLoop()
        switch state {
        case .shutDown:
            return TransportError(.shutdown, peer: address, "the transport is shutting down")
        case .waitingToRetry(let until, let error) where NIODeadline.now() < until:
            return TransportError(.unreachable, peer: address, "retrying after \(until - NIODeadline.now()) (last attempt: \(error.message))")
        default:
            break
        }
        let outstanding = pending.count + queuedOneWays
        guard outstanding < settings.maxOutstandingRequests else {
            return TransportError(.overloaded, peer: address, "\(outstanding) requests outstanding (bound \(settings.maxOutstandingRequests))")
        }
        guard unwrittenBytes + bytes <= settings.maxQueuedBytes else {
            return TransportError(.overloaded, peer: address, "\(unwrittenBytes) bytes queued, \(bytes) more exceed the bound \(settings.maxQueuedBytes)")
        }
        return nil
    }

    func enqueue(_ outgoing: Outgoing, promise: EventLoopPromise<Frame>, timeout: TimeAmount) {
        if let error = refusal(forBytes: outgoing.bytes) {
            promise.fail(error)
            return
        }
        let id = outgoing.requestID
        let timer = eventLoop.scheduleTask(in: timeout) {
            self.complete(id, with: .failure(TransportError(.timedOut, peer: self.address, "no answer to request \(id) within \(timeout)")))
        }
        pending[id] = Pending(promise: promise, timer: timer, writtenOn: nil)
        append(outgoing)
    }

    /// Queues a frame and gets it moving: written once the loop has taken the other messages
    /// queued with it (one write for all of them), or connect first.
    func append(_ outgoing: Outgoing) {
        queue.append(outgoing)
        unwrittenBytes += outgoing.bytes
        switch state {
        case .connected:
            guard !flushScheduled else { return }
            flushScheduled = true
            eventLoop.execute {
                self.flushScheduled = false
                if case .connected(let channel, _) = self.state { self.flush(channel) }
            }
        case .idle, .waitingToRetry:
            connect()
        case .connecting, .shutDown:
            break
        }
    }

    /// Writes queued frames while the channel accepts more.
    func flush(_ channel: any Channel) {
        var wrote = false
        while channel.isWritable, let outgoing = queue.popFirst() {
            if outgoing.requestID == 0 {
                queuedOneWays -= 1
            } else if pending[outgoing.requestID] == nil {
                unwrittenBytes -= outgoing.bytes  // timed out or cancelled while queued
                continue
            } else {
                pending[outgoing.requestID]?.writtenOn = ObjectIdentifier(channel)
            }
            let written = eventLoop.makePromise(of: Void.self)
            let bytes = outgoing.bytes
            written.futureResult.whenComplete { _ in self.unwrittenBytes -= bytes }
            channel.write(outgoing.frame, promise: written)
            wrote = true
        }
        if wrote { channel.flush() }
    }

    func connect() {
        eventLoop.assertInEventLoop()
        state = .connecting
        let established = eventLoop.makePromise(of: Handshake.Peer.self)
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(settings.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(
                low: settings.writeBufferLowWaterMark, high: settings.writeBufferHighWaterMark))
            .channelInitializer { [settings, handshake, address, logger, tls] channel in
                channel.eventLoop.makeCompletedFuture {
                    let decoder = FrameDecoder(maxFrameBytes: settings.limits.maxFrameBytes)
                    if let tls {
                        let host = WireAddress(address)?.host ?? address
                        try channel.pipeline.syncOperations.addHandler(try tls.clientHandler(host: host))
                    }
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(decoder, maximumBufferSize: decoder.maximumBufferSize),
                        MessageToByteHandler(FrameEncoder(maxFrameBytes: settings.limits.maxFrameBytes)),
                        HandshakeHandler(
                            role: .initiator, configuration: handshake, limits: settings.limits,
                            timeout: settings.handshakeTimeout, established: established, peerLabel: address, logger: logger),
                        ClientConnectionHandler(peer: self),
                    ])
                }
            }
        if let localBind { bootstrap = bootstrap.bind(to: localBind) }
        bootstrap.connect(to: remote).whenComplete { result in
            switch result {
            case .failure(let error):
                established.fail(error)
                self.connectFailed(TransportError(.connectFailed, peer: self.address, "\(error)"))
            case .success(let channel):
                established.futureResult.whenComplete { handshake in
                    switch handshake {
                    case .success(let peer):
                        self.connected(channel, peer)
                    case .failure(let error):
                        channel.close(promise: nil)
                        self.connectFailed(error as? TransportError
                            ?? TransportError(.connectFailed, peer: self.address, "handshake: \(error)"))
                    }
                }
            }
        }
    }

    private func connected(_ channel: any Channel, _ peer: Handshake.Peer) {
        guard case .connecting = state else {
            channel.close(promise: nil)  // shut down meanwhile
            return
        }
        consecutiveFailures = 0
        state = .connected(channel, peer)
        logger.debug("internode connection established", metadata: [
            "cairn.node": "\(peer.node)", "cairn.local": "\(channel.localAddress?.wireDescription ?? "?")",
        ])
        flush(channel)
    }

    private func connectFailed(_ error: TransportError) {
        guard case .connecting = state else { return }
        consecutiveFailures += 1
        let exponent = min(consecutiveFailures - 1, 20)
        let base = min(settings.reconnectDelayMax, settings.reconnectDelayInitial * (1 << exponent))
        // Jitter in [1/2, 1] of the delay, so nodes that lost a peer together do not retry together.
        let delay = TimeAmount.nanoseconds(TimeAmount(base).nanoseconds / 1024 * Int64.random(in: 512...1024))
        state = .waitingToRetry(until: .now() + delay, error: error)
        logger.info("internode connection failed", metadata: [
            "cairn.error": "\(error)", "cairn.retryAfter": "\(delay)", "cairn.failures": "\(consecutiveFailures)",
        ])
        failAll(error, onlyWritten: false)
    }

    /// Called by the connection handler when its channel closes.
    func channelClosed(_ channel: any Channel) {
        eventLoop.assertInEventLoop()
        guard case .connected(let current, _) = state, current === channel else { return }
        state = .idle
        logger.debug("internode connection closed")
        failAll(TransportError(.connectionClosed, peer: address, "connection closed with the request in flight"), onlyWritten: true)
        if !queue.isEmpty { connect() }
    }

    func channelWritable(_ channel: any Channel) {
        guard case .connected(let current, _) = state, current === channel else { return }
        flush(channel)
    }

    /// An answer (response or error frame) arrived.
    func received(_ frame: Frame) {
        guard pending[frame.requestID] != nil else {
            lateAnswers += 1
            return
        }
        complete(frame.requestID, with: .success(frame))
    }

    func complete(_ id: UInt64, with result: Result<Frame, TransportError>) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        entry.timer?.cancel()
        entry.promise.completeWith(result.mapError { $0 as any Error })
    }

    /// Fails pending requests (only those written on a connection, or all) and, for all, drops
    /// the queue.
    func failAll(_ error: TransportError, onlyWritten: Bool) {
        for (id, entry) in pending where !onlyWritten || entry.writtenOn != nil {
            complete(id, with: .failure(error))
        }
        guard !onlyWritten else { return }
        while let dropped = queue.popFirst() {
            unwrittenBytes -= dropped.bytes
            if dropped.requestID == 0 { queuedOneWays -= 1 }
        }
    }
}
