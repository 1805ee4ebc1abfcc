import Crypto
import Foundation
import SwiftASN1
import X509

/// A small certificate authority for one cluster (`cairn certs`): a self-signed CA, and node
/// certificates it signs for the addresses and names a node is reached by. Keys are P-256;
/// every node certificate serves both ends of a mutually authenticated connection.
public enum CertificateAuthority {
    /// Days a CA certificate is valid (CockroachDB's default: ten years).
    public static let caValidityDays = 3650
    /// Days a node certificate is valid (five years).
    public static let nodeValidityDays = 1825

    /// Writes a new CA: its certificate to `certsDirectory/ca.crt` and its private key to
    /// `caKeyPath` (0600). Keep the key away from the nodes; it signs node certificates.
    public static func createCA(
        certsDirectory: String, caKeyPath: String, commonName: String = "Cairn CA", validDays: Int = caValidityDays,
        overwrite: Bool = false, now: Date = Date()
    ) throws(TLSSetupError) {
        try CertificateFiles.makeDirectory(certsDirectory)
        let key = P256.Signing.PrivateKey()
        let privateKey = Certificate.PrivateKey(key)
        let pem: String
        do {
            let name = try DistinguishedName {
                OrganizationName("Cairn")
                CommonName(commonName)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: privateKey.publicKey,
                notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(Double(validDays) * 86_400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: privateKey.publicKey)
                },
                issuerPrivateKey: privateKey)
            pem = try certificate.serializeAsPEM().pemString
        } catch {
            throw TLSSetupError("cannot make the CA certificate: \(error)")
        }
        try CertificateFiles.write(key.pemRepresentation + "\n", to: caKeyPath, overwrite: overwrite)
        try CertificateFiles.write(pem + "\n", to: CertificateFiles.path(certsDirectory, CertificateFiles.caCertificate), overwrite: overwrite)
    }

    /// Writes a node certificate and key (`node.crt`, `node.key`, 0600) into `certsDirectory`,
    /// signed by the CA whose certificate is `certsDirectory/ca.crt` and whose key is
    /// `caKeyPath`. `hosts` are the IP addresses and DNS names the node is reached by (its
    /// internode and client addresses); a client checks the address it dialled against them.
    public static func createNode(
        certsDirectory: String, caKeyPath: String, hosts: [String], validDays: Int = nodeValidityDays, overwrite: Bool = false,
        now: Date = Date()
    ) throws(TLSSetupError) {
        guard !hosts.isEmpty else { throw TLSSetupError("name at least one host (IP address or DNS name) the node is reached by") }
        let names = try hosts.map { host throws(TLSSetupError) in try generalName(host) }
        let caPath = CertificateFiles.path(certsDirectory, CertificateFiles.caCertificate)
        let caPEM = try CertificateFiles.read(caPath)
        let caKeyPEM = try CertificateFiles.read(caKeyPath)
        let key = P256.Signing.PrivateKey()
        let privateKey = Certificate.PrivateKey(key)
        let pem: String
        do {
            let ca: Certificate
            do { ca = try Certificate(pemEncoded: caPEM) } catch { throw TLSSetupError("\(caPath) is not a PEM certificate: \(error)") }
            let caKey: Certificate.PrivateKey
            do { caKey = try Certificate.PrivateKey(pemEncoded: caKeyPEM) } catch {
                throw TLSSetupError("\(caKeyPath) is not a PEM private key: \(error)")
            }
            guard caKey.publicKey == ca.publicKey else {
                throw TLSSetupError("\(caKeyPath) is not the key of the CA in \(caPath)")
            }
            let subject = try DistinguishedName {
                OrganizationName("Cairn")
                CommonName(hosts[0])
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: privateKey.publicKey,
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: min(now.addingTimeInterval(Double(validDays) * 86_400), ca.notValidAfter),
                issuer: ca.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    SubjectAlternativeNames(names)
                    SubjectKeyIdentifier(hash: privateKey.publicKey)
                    AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: ca.publicKey).keyIdentifier)
                },
                issuerPrivateKey: caKey)
            pem = try certificate.serializeAsPEM().pemString
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw TLSSetupError("cannot make the node certificate: \(error)")
        }
        try CertificateFiles.write(key.pemRepresentation + "\n", to: CertificateFiles.path(certsDirectory, CertificateFiles.nodeKey), overwrite: overwrite)
        try CertificateFiles.write(pem + "\n", to: CertificateFiles.path(certsDirectory, CertificateFiles.nodeCertificate), overwrite: overwrite)
    }

    /// An IP address (v4 or v6) as an IP SAN, anything else as a DNS name.
    static func generalName(_ host: String) throws(TLSSetupError) -> GeneralName {
        if let bytes = IPAddressBytes.parse(host) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
        let allowed = host.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x2A
        }
        guard !host.isEmpty, host.utf8.count <= 253, allowed else {
            throw TLSSetupError("'\(host)' is neither an IP address nor a DNS name")
        }
        return .dnsName(host)
    }
}
