module berth.dev/test/prometheus-adapter

// Builds prometheus-adapter, which serves the external metrics API (external.metrics.k8s.io) from the test
// environment's Prometheus. `go install sigs.k8s.io/prometheus-adapter/cmd/adapter@v0.12.0` cannot be used: it
// looks the module's deprecation up in its version list, which the Go module proxy reachable here refuses (403),
// while a module that requires it builds from the released module graph (it has no replace lines).

go 1.22.1

require sigs.k8s.io/prometheus-adapter v0.12.0
