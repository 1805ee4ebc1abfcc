#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files of a certificates directory, named as CockroachDB names them: every node's
/// directory holds the cluster's CA certificate and the node's own certificate and key; a
/// client needs only `ca.crt`. The CA's private key is kept elsewhere (`--ca-key`), so a node's
/// directory cannot mint certificates.
public enum CertificateFiles {
    public static let caCertificate = "ca.crt"
    public static let nodeCertificate = "node.crt"
    public static let nodeKey = "node.key"

    public static func path(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The whole file, or an error naming it.
    static func read(_ path: String) throws(TLSSetupError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TLSSetupError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TLSSetupError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= 1 << 20 else { throw TLSSetupError("\(path) is larger than 1 MiB; it is not a PEM file") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to a new file `path` readable by its owner only (0600), synced. An
    /// existing file is replaced only when `overwrite`; otherwise it is an error, so a second
    /// `create-ca` cannot silently orphan every certificate the first one signed.
    static func write(_ text: String, to path: String, overwrite: Bool) throws(TLSSetupError) {
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_TRUNC
        if !overwrite { flags |= O_EXCL }
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw TLSSetupError("\(path) exists; pass --overwrite to replace it") }
            throw TLSSetupError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // An earlier file kept its mode through O_TRUNC.
        _ = fchmod(fd, 0o600)
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TLSSetupError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(written)
        }
        guard fsync(fd) == 0 else { throw TLSSetupError("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    /// Creates `directory` and any missing parent (0700 each), as `mkdir -p`.
    static func makeDirectory(_ directory: String) throws(TLSSetupError) {
        var path = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0, errno != EEXIST {
                throw TLSSetupError("cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
