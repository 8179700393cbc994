package metrics

import "github.com/prometheus/client_golang/prometheus"

// BuildInfo is what the binary knows of its own build (the command reads
// it from runtime/debug.ReadBuildInfo).
type BuildInfo struct {
	Version  string // the module version, "(devel)" for a source build
	Revision string // the VCS commit; "" when the build has no VCS data
	Time     string // the commit time, RFC 3339; "" when unknown
	Modified string // "true" or "false"; "" when unknown
}

// SetBuildInfo exports mastership_build_info{version,revision,modified},
// always 1, as Prometheus' own *_build_info gauges do, so a dashboard can
// join it to tell which build each agent runs. Unknown values are
// exported as "unknown", never as blanks.
func (m *Metrics) SetBuildInfo(b BuildInfo) {
	or := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "build_info",
		Help:        "The build of the running agent: module version, VCS revision and whether the tree was modified. Always 1.",
		ConstLabels: prometheus.Labels{"version": or(b.Version), "revision": or(b.Revision), "modified": or(b.Modified)},
	})
	g.Set(1)
	// A second call replaces the first gauge rather than adding one.
	m.buildMu.Lock()
	defer m.buildMu.Unlock()
	if m.buildInfo != nil {
		m.reg.Unregister(m.buildInfo)
	}
	m.reg.MustRegister(g)
	m.buildInfo = g
}
