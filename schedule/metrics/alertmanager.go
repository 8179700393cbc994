package metrics

import "github.com/prometheus/client_golang/prometheus"

// AlertmanagerErrors registers mastership_alertmanager_errors_total
// {alertmanager} (run --alertmanager only) and returns the function that
// counts one failed post to target, a URL with its password masked.
func (m *Metrics) AlertmanagerErrors(targets []string) func(target string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "alertmanager_errors_total",
		Help:      "Posts of alerts to an Alertmanager (run --alertmanager) that failed.",
	}, []string{"alertmanager"})
	for _, t := range targets {
		c.WithLabelValues(t) // present at 0, so increase() works from the start
	}
	m.reg.MustRegister(c)
	return func(target string) { c.WithLabelValues(target).Inc() }
}
