import ArgumentParser
import CairnHTTP
import Foundation
import Logging
import ServiceLifecycle
#if OpenTelemetry
import OTel
#endif

/// Trace export (`--otel-endpoint`): the node makes spans either way (`NodeTracing`, the HTTP
/// API's server spans); without an exporter the process's tracer is a no-op and they cost
/// next to nothing. With one, swift-otel's tracer takes them (W3C trace context between nodes)
/// and sends them in batches over OTLP/HTTP with protobuf. Built only with the package trait
/// `OpenTelemetry` (docs/operations.md, "Tracing").
enum TracingExport {
    /// Bootstraps the tracer and returns the exporter's service (run first, stopped last), or
    /// nil without an endpoint.
    static func service(endpoint: String?, node: String, cluster: String, logger: Logger) throws -> (any Service)? {
        guard let endpoint else { return nil }
        guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
            throw ValidationError("--otel-endpoint must be an http:// or https:// URL, for example http://127.0.0.1:4318/v1/traces")
        }
        #if OpenTelemetry
        var configuration = OTel.Configuration.default
        configuration.serviceName = "cairnd"
        configuration.resourceAttributes = ["cairn.node": node, "cairn.cluster": cluster]
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.otlpExporter.endpoint = endpoint
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        // cairnd's own settings decide: OTEL_* variables (OTEL_SDK_DISABLED would turn swift-otel's
        // logs and metrics on beside cairnd's, or everything off) are not read.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OTEL_") }
        let service = try OTel.bootstrap(configuration: configuration, environment: environment)
        RequestTracing.enable()
        logger.notice("exporting traces over OTLP/HTTP", metadata: ["cairn.otel_endpoint": "\(endpoint)"])
        return service
        #else
        throw ValidationError(
            "this cairnd was built without trace export; build it with: swift build -c release --traits OpenTelemetry")
        #endif
    }
}
