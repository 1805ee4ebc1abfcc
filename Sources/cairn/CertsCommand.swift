import ArgumentParser
import CairnTLS

/// `cairn certs`: a certificate authority for one cluster and the node certificates it signs,
/// in the layout `cairnd --certs-dir` reads (docs/security.md).
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make the certificates for TLS: a cluster CA, and a certificate per node.",
        discussion: """
            cairn certs create-ca --certs-dir certs --ca-key safe/ca.key
            cairn certs create-node 10.0.0.1 node1.example.com --certs-dir certs --ca-key safe/ca.key
            Copy certs/ (ca.crt, node.crt, node.key) to the node and start it with --certs-dir; \
            give clients ca.crt (cairn --ca, curl --cacert, redis-cli --tls --cacert). Keep ca.key \
            off the nodes.
            """,
        subcommands: [CreateCA.self, CreateNode.self])

    struct CreateCA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-ca", abstract: "Make a cluster CA: CERTS-DIR/ca.crt and its key at --ca-key.")

        @Option(help: ArgumentHelp("Where ca.crt goes (created 0700 if missing).", valueName: "dir"))
        var certsDir: String
        @Option(help: ArgumentHelp("Where the CA's private key goes (0600); keep it off the nodes.", valueName: "file"))
        var caKey: String
        @Option(help: ArgumentHelp("Days the CA is valid.", valueName: "days"))
        var days: Int = CertificateAuthority.caValidityDays
        @Flag(help: "Replace an existing CA (every certificate it signed stops being trusted).")
        var overwrite = false

        func validate() throws {
            guard (1...36_500).contains(days) else { throw ValidationError("--days must be in 1...36500") }
        }

        func run() throws {
            do {
                try CertificateAuthority.createCA(certsDirectory: certsDir, caKeyPath: caKey, validDays: days, overwrite: overwrite)
            } catch {
                printError("cairn: \(error)")
                throw ExitCode(ExitStatus.error)
            }
            print("wrote \(CertificateFiles.path(certsDir, CertificateFiles.caCertificate)) and \(caKey)")
        }
    }

    struct CreateNode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-node",
            abstract: "Make CERTS-DIR/node.crt and node.key, signed by the CA, for the addresses and names a node is reached by.")

        @Argument(help: ArgumentHelp("IP addresses and DNS names the node is reached by (internode and client).", valueName: "host"))
        var hosts: [String]
        @Option(help: ArgumentHelp("The directory holding ca.crt; node.crt and node.key go there.", valueName: "dir"))
        var certsDir: String
        @Option(help: ArgumentHelp("The CA's private key.", valueName: "file"))
        var caKey: String
        @Option(help: ArgumentHelp("Days the certificate is valid (at most as long as the CA).", valueName: "days"))
        var days: Int = CertificateAuthority.nodeValidityDays
        @Flag(help: "Replace an existing node certificate and key.")
        var overwrite = false

        func validate() throws {
            guard !hosts.isEmpty else { throw ValidationError("name at least one host the node is reached by") }
            guard (1...36_500).contains(days) else { throw ValidationError("--days must be in 1...36500") }
        }

        func run() throws {
            do {
                try CertificateAuthority.createNode(
                    certsDirectory: certsDir, caKeyPath: caKey, hosts: hosts, validDays: days, overwrite: overwrite)
            } catch {
                printError("cairn: \(error)")
                throw ExitCode(ExitStatus.error)
            }
            print("wrote \(CertificateFiles.path(certsDir, CertificateFiles.nodeCertificate)) and \(CertificateFiles.nodeKey) for \(hosts.joined(separator: ", "))")
        }
    }
}
